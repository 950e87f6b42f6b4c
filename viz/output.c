/* output.c: laying out a cgraph graph with libgvc and writing it to a file, in-process. */
#include "viz/output.h"

#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <graphviz/gvc.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long -o waits for a process to open a FIFO for reading. */
#define VIZ_FIFO_WAIT_MS 1000

const char *const viz_picture_formats[] = { "svg", "png", "pdf", "dot", NULL };

/* "svg, png, pdf or dot" with prefix before each name. */
static void viz_format_list(const char *const *formats, const char *prefix, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; formats[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s%s", i == 0 ? "" : formats[i + 1] ? ", " : " or ",
					 prefix, formats[i]);
}

const char *viz_output_format(const char *const *formats, const char *format, const char *out)
{
	const char *ext = NULL;
	char list[64];

	/* A command with one format (report: html) needs no name to tell it. */
	if (!format && formats[0] && !formats[1] && (!out || !strcmp(out, "-") || !strrchr(out, '.')))
		return formats[0];
	if (format) {
		for (int i = 0; formats[i]; i++)
			if (!strcmp(format, formats[i]))
				return formats[i];
		viz_format_list(formats, "", list, sizeof(list));
		error("unknown format '%s' (expected %s)", format, list);
		return NULL;
	}
	if (out && strcmp(out, "-"))
		ext = strrchr(out, '.');
	if (ext && !strchr(ext, '/')) {
		for (int i = 0; formats[i]; i++)
			if (!strcasecmp(ext + 1, formats[i]))
				return formats[i];
		viz_format_list(formats, ".", list, sizeof(list));
		error("%s: unknown format '%s' (expected %s, or give --format)", out, ext + 1, list);
		return NULL;
	}
	viz_format_list(formats, ".", list, sizeof(list));
	error("%s: cannot tell the format (give a %s name or --format)", out ? out : "stdout", list);
	return NULL;
}

/* Same file by identity: device and inode. */
static bool viz_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Refuses a target that is the trace database or one of its side files:
 * by device and inode for those that exist, and by name for those that may
 * only appear later (a -wal that SQLite creates on the next open).
 * target_st is NULL when the target does not exist yet.
 */
static int viz_target_not_db(const char *out, const char *resolved, const struct stat *target_st, const char *db)
{
	static const char *const sides[] = { "", "-wal", "-shm", "-journal" };
	char *db_real, side[PATH_MAX + 16];
	struct stat st;
	int ret = 0;

	if (!db || !(db_real = realpath(db, NULL)))
		return 0; /* no database file: nothing to protect */
	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]) && !ret; i++) {
		snprintf(side, sizeof(side), "%s%s", db_real, sides[i]);
		if ((target_st && stat(side, &st) == 0 && viz_same_file(&st, target_st)) || !strcmp(side, resolved))
			ret = error("%s: is the trace database%s%s (%s); refusing to write over it", out,
				    *sides[i] ? "'s " : "", *sides[i] ? sides[i] + 1 : "", db);
	}
	free(db_real);
	return ret;
}

/* dirname(out)'s realpath joined with basename(out): where a new file named out would be. */
static char *viz_resolve_new(const char *out)
{
	char *d = xstrdup(out), *b = xstrdup(out), *dir, *res = NULL;
	const char *dname = dirname(d);

	dir = realpath(dname, NULL);
	if (!dir)
		error("%s: no such directory '%s'", out, dname);
	else if (access(dir, W_OK) < 0)
		error("%s: directory '%s' is not writable: %s", out, dir, strerror(errno));
	else {
		res = xmalloc(strlen(dir) + strlen(out) + 2);
		sprintf(res, "%s/%s", strcmp(dir, "/") ? dir : "", basename(b));
	}
	free(dir);
	free(d);
	free(b);
	return res;
}

int viz_target_open(const char *out, const char *db_path, struct viz_target *t)
{
	struct stat st, lst;
	char *check;

	*t = (struct viz_target){ .fd = -1 };
	if (!strcmp(out, "-")) {
		t->fd = STDOUT_FILENO;
		return 0;
	}
	if (!*out)
		return error("-o wants a file name, or '-' for stdout");
	if (stat(out, &st) < 0) {
		if (errno != ENOENT)
			return error("%s: %s", out, strerror(errno));
		if (lstat(out, &lst) == 0)
			return error("%s: is a symlink to a file that does not exist; refusing to follow it", out);
		if (!(t->path = viz_resolve_new(out)))
			return -1;
		if (viz_target_not_db(out, t->path, NULL, db_path) < 0) {
			viz_target_release(t);
			return -1;
		}
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return error("%s: is a directory", out);
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		/* A FIFO opened for writing waits for a reader, maybe forever: with
		 * O_NONBLOCK a missing reader is ENXIO at once. A reader started
		 * just before pooltrace (`cat fifo & pooltrace ... -o fifo`) may
		 * not have reached its open() yet, so it gets a second to arrive;
		 * then the fd goes back to blocking. */
		int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISFIFO(st.st_mode) ? O_NONBLOCK : 0);
		int fd = open(out, flags);

		for (int waited = 0; fd < 0 && errno == ENXIO && waited < VIZ_FIFO_WAIT_MS; waited += 10) {
			sleep_ms(10);
			fd = open(out, flags);
		}
		if (fd < 0)
			return error("%s: cannot open for writing: %s", out,
				     errno == ENXIO ? "no process is reading the FIFO" : strerror(errno));
		if (S_ISFIFO(st.st_mode))
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		*t = (struct viz_target){ .fd = fd, .own_fd = true };
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return error("%s: not a regular file, character device or FIFO; refusing to replace it", out);
	if (!(t->path = realpath(out, NULL)))
		return error("%s: %s", out, strerror(errno));
	/* The replacement is made in the target's directory: it must be writable. */
	if (viz_target_not_db(out, t->path, &st, db_path) < 0 || !(check = viz_resolve_new(t->path))) {
		viz_target_release(t);
		return -1;
	}
	free(check);
	return 0;
}

void viz_target_release(struct viz_target *t)
{
	if (t->own_fd && t->fd >= 0)
		close(t->fd);
	free(t->path);
	*t = (struct viz_target){ .fd = -1 };
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

/* The signals a replacement holds off, so that an interrupt cannot leave its temporary file behind. */
static void viz_block_stop_signals(sigset_t *old)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, old);
}

/* The permission bits a replacement of path gets: the old file's, or 0666 less umask. */
static mode_t viz_replace_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0)
		return st.st_mode & 07777;
	mask = umask(0);
	umask(mask);
	return 0666 & ~mask;
}

int viz_stream_begin(const struct viz_target *t, struct viz_stream *s)
{
	int fd;

	*s = (struct viz_stream){ .path = t->path, .name = t->path ? t->path : t->fd == STDOUT_FILENO ? "stdout" : "output" };
	if (t->path) {
		s->mode = viz_replace_mode(t->path);
		viz_block_stop_signals(&s->old_mask);
		s->tmp = xmalloc(strlen(t->path) + 16);
		sprintf(s->tmp, "%s.tmp-XXXXXX", t->path);
		fd = mkstemp(s->tmp);
		if (fd < 0)
			error("%s: cannot create: %s", t->path, strerror(errno));
	} else {
		/* A stream of its own on the same open file: closing it leaves stdout open. */
		fd = fcntl(t->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			error("%s: %s", s->name, strerror(errno));
	}
	if (fd >= 0 && !(s->f = fdopen(fd, "w"))) {
		error("%s: %s", s->name, strerror(errno));
		close(fd);
	}
	if (!s->f) {
		if (s->tmp) {
			unlink(s->tmp);
			sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
		}
		free(s->tmp);
		s->tmp = NULL;
		return -1;
	}
	/* Large writes: fewer system calls for a file of many small records. */
	setvbuf(s->f, NULL, _IOFBF, 1 << 16);
	return 0;
}

int viz_stream_end(struct viz_stream *s, bool ok)
{
	int ret = 0, e = 0;

	if (!s->f)
		return -1;
	if (fflush(s->f) != 0 || ferror(s->f))
		e = errno ? errno : EIO;
	if (s->tmp && !e && fchmod(fileno(s->f), s->mode) < 0)
		e = errno;
	if (fclose(s->f) != 0 && !e)
		e = errno;
	s->f = NULL;
	if (e && ok)
		ret = error("%s: cannot write: %s", s->name, strerror(e));
	else if (e || !ok)
		ret = -1;
	if (s->tmp) {
		if (ret == 0 && rename(s->tmp, s->path) < 0)
			ret = error("%s: cannot replace: %s", s->path, strerror(errno));
		if (ret < 0)
			unlink(s->tmp);
		sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
		free(s->tmp);
		s->tmp = NULL;
	}
	return ret;
}

/*
 * Writes data beside path under a temporary name and renames it over path.
 * Termination signals are held off meanwhile, so an interrupt cannot leave
 * the temporary file behind; they are delivered once it is in place or gone.
 * A replaced file keeps its permission bits; a new one gets 0666 less umask.
 */
static int viz_replace_file(const char *path, const char *data, size_t len)
{
	char *tmp = xmalloc(strlen(path) + 16);
	mode_t mode = viz_replace_mode(path);
	sigset_t old;
	int fd, ret = -1;

	viz_block_stop_signals(&old);
	sprintf(tmp, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		error("%s: cannot create: %s", path, strerror(errno));
		goto out;
	}
	if (viz_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 || close(fd) < 0) {
		error("%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		error("%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(tmp);
	return ret;
}

int viz_output_data(Agraph_t *g, const char *format, char **data, size_t *len)
{
	GVC_t *gvc = gvContext();
	const char *engine = agget(g, "layout");
	unsigned int n = 0;
	int ret = -1, rc;

	*data = NULL;
	*len = 0;
	/* Graphviz reports bad labels and the like as errors but still renders:
	 * such a picture is not written (its count is checked before). */
	agreseterrors();
	if (gvLayout(gvc, g, engine && *engine ? engine : "dot") != 0) {
		error("graphviz could not lay out the graph");
		goto out;
	}
	rc = gvRenderData(gvc, g, format, data, &n);
	gvFreeLayout(gvc, g);
	if (rc != 0 || !*data)
		error("graphviz could not render %s", format);
	else if (agerrors() > 0)
		error("graphviz reported errors while rendering; nothing was written");
	else
		ret = 0;
out:
	if (gvFreeContext(gvc) != 0 && ret == 0)
		ret = error("graphviz reported errors while rendering");
	/* gvRenderData can hand back a buffer even when it fails. */
	if (ret < 0 && *data) {
		gvFreeRenderData(*data);
		*data = NULL;
	}
	*len = n;
	return ret;
}

void viz_output_free(char *data)
{
	if (data)
		gvFreeRenderData(data);
}

int viz_output_write(const struct viz_target *t, const char *data, size_t len)
{
	if (t->path)
		return viz_replace_file(t->path, data, len);
	if (viz_write_all(t->fd, data, len) < 0)
		return error("%s: %s", t->fd == STDOUT_FILENO ? "stdout" : "output", strerror(errno));
	return 0;
}

int viz_output_render(Agraph_t *g, const char *format, const struct viz_target *t)
{
	char *data;
	size_t len;
	int ret;

	if (viz_output_data(g, format, &data, &len) < 0)
		return -1;
	ret = viz_output_write(t, data, len);
	viz_output_free(data);
	return ret;
}

/*
 * The next shown character of s, as text for an HTML-like label: a valid
 * character as it is (& < > " as entities), a control character or invalid
 * byte as an escape. Returns the bytes of s it stands for.
 */
static int viz_label_char(const unsigned char *s, char out[16])
{
	int n = utf8_seq_len(s);

	if (n == 0 || s[0] < 0x20 || s[0] == 0x7f) {
		switch (s[0]) {
		case '\n': strcpy(out, "\\n"); break;
		case '\t': strcpy(out, "\\t"); break;
		case '\r': strcpy(out, "\\r"); break;
		case 0x1b: strcpy(out, "\\e"); break;
		default: snprintf(out, 16, "\\x%02x", s[0]);
		}
		return 1;
	}
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) { /* C1 controls, U+0080..U+009F */
		snprintf(out, 16, "\\u%04x", s[1]);
		return 2;
	}
	switch (s[0]) {
	case '&': strcpy(out, "&amp;"); break;
	case '<': strcpy(out, "&lt;"); break;
	case '>': strcpy(out, "&gt;"); break;
	case '"': strcpy(out, "&quot;"); break;
	default: memcpy(out, s, (size_t)n), out[n] = '\0';
	}
	return n;
}

static void viz_label_clip(struct sbuf *b, const char *s, size_t max_chars, bool keep_end)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t count = 0, from = 0, to;
	char piece[16];

	for (const unsigned char *q = p; *q; q += viz_label_char(q, piece))
		count++;
	to = count;
	if (max_chars && count > max_chars) {
		if (keep_end)
			from = count - (max_chars - 1);
		else
			to = max_chars - 1;
	}
	if (from)
		sbuf_addstr(b, "…");
	for (size_t i = 0; i < to; i++) {
		p += viz_label_char(p, piece);
		if (i >= from)
			sbuf_addstr(b, piece);
	}
	if (to < count)
		sbuf_addstr(b, "…");
}

/* A command line without its program's directory: "python3 -c …", not "/root/.pyenv/…/python3 -c …". */
const char *viz_command_short(const char *cmd)
{
	size_t word = strcspn(cmd, " ");
	const char *slash = NULL;

	if (strcspn(cmd, "'\"\\") < word)
		return cmd; /* a quoted program name: keep it whole */
	for (const char *c = cmd; c < cmd + word; c++)
		if (*c == '/' && c + 1 < cmd + word)
			slash = c;
	return slash ? slash + 1 : cmd;
}

void viz_label_append(struct sbuf *b, const char *s, size_t max_chars)
{
	/* Keep the end: of a path, the file name says the most. */
	viz_label_clip(b, s, max_chars, true);
}

void viz_label_append_head(struct sbuf *b, const char *s, size_t max_chars)
{
	viz_label_clip(b, s, max_chars, false);
}

void viz_html_escape(struct sbuf *b, const char *s)
{
	viz_label_append(b, s, 0);
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
