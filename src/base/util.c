/* util.c: process-wide helpers: error reporting, allocation that dies, number parsing, small files, clocks. */
#include "base/util.h"

#include "base/progress.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void util_vreport(const char *fmt, va_list ap)
{
	char line[1024];

	/* One write per message, so concurrent processes never interleave a line. */
	vsnprintf(line, sizeof(line), fmt, ap);
	progress_interrupt(); /* not run into a progress line */
	fprintf(stderr, "pooltrace: %s\n", line);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vreport(fmt, ap);
	va_end(ap);
	return -EIO;
}

noreturn void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vreport(fmt, ap);
	va_end(ap);
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		die("out of memory (%zu x %zu bytes)", count, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		die("out of memory (%zu x %zu bytes)", n, size);
	return xrealloc(p, n * size);
}

size_t alloc_nr(size_t alloc, size_t nr, size_t first)
{
	assert(first > 0);
	if (!alloc)
		alloc = first;
	while (alloc < nr) {
		if (alloc > SIZE_MAX / 2)
			die("out of memory (%zu elements)", nr);
		alloc *= 2;
	}
	return alloc;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory");
	return p;
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

void inomap_put(struct inomap *m, uint64_t inode, int64_t value)
{
	size_t i;

	assert(inode != 0);
	if ((m->len + 1) * 2 > m->cap) {
		struct inomap old = *m;

		m->cap = old.cap ? old.cap * 2 : 64;
		m->slots = xcalloc(m->cap, sizeof(*m->slots));
		m->len = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (old.slots[j].inode)
				inomap_put(m, old.slots[j].inode, old.slots[j].value);
		free(old.slots);
	}
	for (i = hash_slot(inode, m->cap); m->slots[i].inode && m->slots[i].inode != inode; i = (i + 1) & (m->cap - 1))
		;
	m->len += !m->slots[i].inode;
	m->slots[i] = (struct inomap_slot){ inode, value };
}

int64_t inomap_get(const struct inomap *m, uint64_t inode)
{
	if (!inode || !m->cap)
		return 0;
	for (size_t i = hash_slot(inode, m->cap); m->slots[i].inode; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].inode == inode)
			return m->slots[i].value;
	return 0;
}

void inomap_release(struct inomap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

size_t hash_slot(uint64_t k, size_t cap)
{
	/* MurmurHash3's finalizer: pids and inodes are dense, the slots must not be. */
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Every signal whose default action would end pooltrace without a word and
 * that can be caught: each ends the run as interrupted instead, its outcome
 * stored (SIGXFSZ is ignored instead: the write it stops then fails with
 * EFBIG, and the run is marked failed).
 */
static const int util_stop_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU };

void stop_signal_set(sigset_t *set)
{
	for (size_t i = 0; i < sizeof(util_stop_sigs) / sizeof(util_stop_sigs[0]); i++)
		sigaddset(set, util_stop_sigs[i]);
}

void on_stop_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler ? handler : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(util_stop_sigs) / sizeof(util_stop_sigs[0]); i++)
		sigaction(util_stop_sigs[i], &sa, NULL);
	sa.sa_handler = handler ? SIG_IGN : SIG_DFL;
	sigaction(SIGXFSZ, &sa, NULL);
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* A signal cuts the sleep short on purpose: callers re-check their flags. */
	nanosleep(&ts, NULL);
}

ssize_t read_small_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/*
 * The length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does not
 * start one: a stray continuation byte, an overlong form, a surrogate, a code
 * point past U+10FFFF, or a sequence cut short.
 */
int utf8_seq_len(const unsigned char *s)
{
	int n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t text_safe(char *buf, size_t len, const char *t)
{
	size_t used = 0;

	for (const unsigned char *p = (const unsigned char *)t; *p;) {
		int n = utf8_seq_len(p);
		char hex[5];
		const char *piece = (const char *)p;

		if (!n || *p < 0x20 || *p == 0x7f) {
			snprintf(hex, sizeof(hex), "\\x%02x", *p);
			piece = hex;
			n = 4;
			p++;
		} else {
			p += n;
		}
		for (int k = 0; k < n; k++, used++)
			if (used + 1 < len)
				buf[used] = piece[k];
	}
	if (len)
		buf[used < len ? used : len - 1] = '\0';
	return used;
}

char *function_short_name(char *f)
{
	size_t n = strlen(f);
	int depth = 0;

	if (n > 6 && !strcmp(f + n - 6, " const"))
		f[n -= 6] = '\0';
	if (!n || f[n - 1] != ')')
		return f;
	for (size_t i = n; i-- > 0;) {
		depth += f[i] == ')' ? 1 : f[i] == '(' ? -1 : 0;
		if (!depth) {
			if (i > 0)
				f[i] = '\0';
			break;
		}
	}
	return f;
}
