/* output.c: laying out a cgraph graph with libgvc and writing it to a file, in-process. */
#include "output.h"

#include "util.h"

#include <errno.h>
#include <graphviz/gvc.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const viz_formats[] = { "svg", "png", "pdf", "dot", NULL };

const char *viz_output_format(const char *format, const char *out)
{
	const char *ext = NULL;

	if (format) {
		for (int i = 0; viz_formats[i]; i++)
			if (!strcmp(format, viz_formats[i]))
				return viz_formats[i];
		error("unknown format '%s' (expected svg, png, pdf or dot)", format);
		return NULL;
	}
	if (out && strcmp(out, "-"))
		ext = strrchr(out, '.');
	if (ext && !strchr(ext, '/')) {
		for (int i = 0; viz_formats[i]; i++)
			if (!strcasecmp(ext + 1, viz_formats[i]))
				return viz_formats[i];
		error("%s: unknown format '%s' (expected .svg, .png, .pdf or .dot, or give --format)", out, ext + 1);
		return NULL;
	}
	error("%s: cannot tell the format (give a .svg/.png/.pdf/.dot name or --format)", out ? out : "stdout");
	return NULL;
}

int viz_output_check(const char *out)
{
	char *copy, *dir;
	struct stat st;
	int ret = 0;

	if (!strcmp(out, "-"))
		return 0;
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return error("%s: is a directory", out);
	copy = xstrdup(out);
	dir = dirname(copy);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		ret = error("%s: no such directory '%s'", out, dir);
	else if (access(dir, W_OK) < 0)
		ret = error("%s: directory '%s' is not writable: %s", out, dir, strerror(errno));
	free(copy);
	return ret;
}

static int viz_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int viz_output_render(Agraph_t *g, const char *format, const char *out)
{
	GVC_t *gvc = gvContext();
	char *data = NULL, *tmp = NULL;
	unsigned int len = 0;
	int fd = -1, ret = -1, rc;

	if (gvLayout(gvc, g, "dot") != 0) {
		error("graphviz could not lay out the graph");
		goto out;
	}
	rc = gvRenderData(gvc, g, format, &data, &len);
	gvFreeLayout(gvc, g);
	if (rc != 0 || !data) {
		error("graphviz could not render %s", format);
		goto out;
	}
	if (!strcmp(out, "-")) {
		ret = viz_write_all(STDOUT_FILENO, data, len) < 0 ? error("stdout: %s", strerror(errno)) : 0;
		goto out;
	}
	tmp = xmalloc(strlen(out) + 16);
	sprintf(tmp, "%s.tmp-XXXXXX", out);
	fd = mkstemp(tmp);
	if (fd < 0) {
		error("%s: cannot create: %s", out, strerror(errno));
		goto out;
	}
	if (viz_write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0 || close(fd) < 0) {
		error("%s: cannot write: %s", out, strerror(errno));
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, out) < 0) {
		error("%s: cannot replace: %s", out, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	/* gvRenderData can hand back a buffer even when it fails. */
	if (data)
		gvFreeRenderData(data);
	if (gvFreeContext(gvc) != 0 && ret == 0)
		ret = error("graphviz reported errors while rendering");
	return ret;
}

void viz_buf_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (*len + (size_t)n + 1 > *cap) {
		*cap = (*len + (size_t)n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	va_start(ap, fmt);
	vsnprintf(*buf + *len, *cap - *len, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
}

void viz_html_escape(char **buf, size_t *len, size_t *cap, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': viz_buf_printf(buf, len, cap, "&amp;"); break;
		case '<': viz_buf_printf(buf, len, cap, "&lt;"); break;
		case '>': viz_buf_printf(buf, len, cap, "&gt;"); break;
		case '"': viz_buf_printf(buf, len, cap, "&quot;"); break;
		default: viz_buf_printf(buf, len, cap, "%c", *s);
		}
	}
}

void viz_set(void *obj, const char *name, const char *value)
{
	agsafeset(obj, (char *)name, (char *)value, "");
}

void viz_set_html_label(void *obj, const char *markup)
{
	Agraph_t *root = agroot(obj);
	char *html = agstrdup_html(root, (char *)markup);

	agsafeset(obj, "label", html, "");
	agstrfree(root, html);
}
