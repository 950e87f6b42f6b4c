/* output.h: laying out a cgraph graph with libgvc and writing it to a file, in-process. */
#ifndef POOLTRACE_VIZ_OUTPUT_H
#define POOLTRACE_VIZ_OUTPUT_H

#include <graphviz/cgraph.h>
#include <stddef.h>

/* "svg", "png", "pdf" or "dot" from --format, or else from out's extension. NULL (error printed) if neither. */
const char *viz_output_format(const char *format, const char *out);

/*
 * Checks before any work that out can be created: its directory exists and
 * is writable. Prints one error line and returns -1 if not.
 */
int viz_output_check(const char *out);

/*
 * Lays g out with dot and renders it as format into out ("-": stdout). The
 * file is written beside out under a temporary name and renamed into place,
 * so a failure never leaves a half-written or damaged file. Returns 0 or -1
 * (error printed).
 */
int viz_output_render(Agraph_t *g, const char *format, const char *out);

/*
 * Appends s to buf (at *len, capacity cap, grown with xrealloc) escaped for
 * an HTML-like label: & < > " become entities.
 */
void viz_html_escape(char **buf, size_t *len, size_t *cap, const char *s);
/* Appends printf-formatted text to buf (no escaping: for markup). */
void viz_buf_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Sets an attribute on a graph, node or edge, declaring it if needed. */
void viz_set(void *obj, const char *name, const char *value);
/* Sets an HTML-like label (value is markup, already escaped). */
void viz_set_html_label(void *obj, const char *markup);

#endif
