/* output.h: laying out a cgraph graph with libgvc and writing it to a file, in-process. */
#ifndef POOLTRACE_VIZ_OUTPUT_H
#define POOLTRACE_VIZ_OUTPUT_H

#include "base/sbuf.h"

#include <graphviz/cgraph.h>
#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* What render, compare and timeline write: svg, png, pdf, dot. */
extern const char *const viz_picture_formats[];

/* One of formats (NULL-terminated) from --format, or else from out's extension. NULL (error printed) if neither. */
const char *viz_output_format(const char *const *formats, const char *format, const char *out);

/*
 * Where a picture goes, decided once, before any work, from what -o names:
 *   "-"                      standard output;
 *   a character device, FIFO  streamed into, never replaced (opened now: a
 *                            FIFO with no reader is refused rather than waited on);
 *   a regular file, or none  written beside it under a temporary name and
 *                            renamed into place, so a failure never leaves a
 *                            half-written or damaged file. A symlink is written
 *                            through: the file it points to is replaced, the
 *                            link stays.
 * Anything else (a directory, a socket, a block device, a dangling symlink) is
 * refused, and so is the trace database itself or one of its -wal, -shm or
 * -journal files, by device and inode and by name.
 */
/* Colours every picture shares: foreign and past things; the wait-for graph and blocked processes. */
#define VIZ_GREY "#9a9a9a"
#define VIZ_ORANGE "#e06c00"

struct viz_target {
	char *path;  /* the file to create or replace (resolved), or NULL */
	int fd;      /* stdout or the opened stream, or -1 */
	bool own_fd; /* fd was opened here and is closed by viz_target_release */
};

/*
 * Fills t for out, protecting db_path (may be NULL). Returns 0, or -1 with one
 * error line printed (the caller exits 2); t then holds nothing to release.
 */
int viz_target_open(const char *out, const char *db_path, struct viz_target *t);
void viz_target_release(struct viz_target *t);

/*
 * Lays g out with dot (or the engine g's "layout" attribute names) and renders it as format into t. A render Graphviz
 * reports errors for is not written. Returns 0 or -1 (error printed).
 */
int viz_output_render(Agraph_t *g, const char *format, const struct viz_target *t);

/* The two halves of viz_output_render: lay out and render into *data (free
 * with viz_output_free; NULL on failure), 0 or -1 (error printed)... */
int viz_output_data(Agraph_t *g, const char *format, char **data, size_t *len);
void viz_output_free(char *data);
/* ...and write bytes to t as viz_output_render does. 0 or -1 (error printed). */
int viz_output_write(const struct viz_target *t, const char *data, size_t len);

/*
 * Output too large to hold in memory (an export of half a million holds),
 * written as it is made: viz_stream_begin opens *f on t (a stdout or device
 * fd, or a new temporary file beside t->path, made as viz_output_write
 * makes its replacement, with the termination signals held off until
 * viz_stream_end). viz_stream_end(ok) flushes and closes it; a file is
 * renamed into place only when ok and every write succeeded, else removed,
 * leaving the previous file as it was. Both return 0 or -1 with one error
 * line printed (a failed write is found here, once: ferror after fflush).
 */
struct viz_stream {
	FILE *f;
	char *tmp;          /* the temporary file, or NULL for a stream */
	const char *path;   /* what it replaces */
	const char *name;   /* for messages: the path, "stdout" or "output" */
	mode_t mode;
	sigset_t old_mask;
};
int viz_stream_begin(const struct viz_target *t, struct viz_stream *s);
int viz_stream_end(struct viz_stream *s, bool ok);

/* The red of leaked write ends, and of what a picture must not let pass unseen (an incomplete trace). */
#define VIZ_RED "#d62728"

/*
 * The one way a string from the database or the system (a file name, a
 * strategy, an outcome: a hand-edited trace can hold anything) enters a
 * label. Appends s to b for an HTML-like label: valid UTF-8 as it is;
 * invalid bytes and control characters shown escaped (\n, \e, \x01,
 * \u0085); & < > " as entities. With max_chars > 0 at most that many
 * characters are shown, keeping the end, behind a "…".
 */
void viz_label_append(struct sbuf *b, const char *s, size_t max_chars);
/* A recorded command line for a title: its program without the directory ("python3 -c …"); points into cmd. */
const char *viz_command_short(const char *cmd);
/* viz_label_append keeping the start, with "…" at the end: for a command line, whose program and first arguments say the most. */
void viz_label_append_head(struct sbuf *b, const char *s, size_t max_chars);
/* viz_label_append with no limit. */
void viz_html_escape(struct sbuf *b, const char *s);

/* Sets an attribute on a graph, node or edge, declaring it if needed. */
void viz_set(void *obj, const char *name, const char *value);
/* Sets an HTML-like label (value is markup, already escaped). */
void viz_set_html_label(void *obj, const char *markup);

#endif
