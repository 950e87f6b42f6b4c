/* helpers.c: what the end-to-end tests share: running the real binary, temp dirs, SQL counts. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char t_dir[256];
static pid_t t_dir_owner;

/*
 * At the end of the test process that made it, the test's directory goes,
 * with anything a test mounted inside it (the full-disk test's tmpfs),
 * unless POOLTRACE_KEEP_TEST_DIRS is set, to look into a failure.
 */
static void t_tmpdir_remove(void)
{
	char cmd[1024];

	if (!t_dir[0] || getpid() != t_dir_owner || getenv("POOLTRACE_KEEP_TEST_DIRS"))
		return;
	snprintf(cmd, sizeof(cmd),
		 "grep -o ' %s/[^ ]*' /proc/self/mounts | while read m; do umount \"$m\"; done 2>/dev/null;"
		 " rm -rf '%s'", t_dir, t_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t_dir);
}

const char *t_tmpdir(void)
{
	if (!t_dir[0]) {
		snprintf(t_dir, sizeof(t_dir), "/tmp/pooltrace-test-XXXXXX");
		cr_assert_not_null(mkdtemp(t_dir), "mkdtemp");
		t_dir_owner = getpid();
		atexit(t_tmpdir_remove);
	}
	return t_dir;
}

const char *t_path(const char *name)
{
	static char bufs[64][512];
	static int next;
	char *b = bufs[next++ % 64];

	snprintf(b, sizeof(bufs[0]), "%s/%s", t_tmpdir(), name);
	return b;
}

static void t_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

void t_sanitizer_env(void)
{
	const char *opts = getenv("POOLTRACE_ASAN_OPTIONS");

	/* The binaries under test get leak detection; see the Makefile. */
	if (opts)
		setenv("ASAN_OPTIONS", opts, 1);
}

static int t_vsh(struct t_result *r, const char *fmt, va_list ap)
{
	char script[4096], cmd[8192], out[512], err[512];
	int st;

	vsnprintf(script, sizeof(script), fmt, ap);
	snprintf(out, sizeof(out), "%s/.out", t_tmpdir());
	snprintf(err, sizeof(err), "%s/.err", t_tmpdir());
	t_sanitizer_env();
	snprintf(cmd, sizeof(cmd), "cd %s && PT='%s' && export PT && { %s ; } </dev/null >%s 2>%s", t_tmpdir(),
		 POOLTRACE_BIN, script, out, err);
	st = system(cmd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	t_slurp(out, r->out, sizeof(r->out));
	t_slurp(err, r->err, sizeof(r->err));
	return r->status;
}

int t_sh(struct t_result *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = t_vsh(r, fmt, ap);
	va_end(ap);
	return rc;
}

int t_run(struct t_result *r, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return t_sh(r, "\"$PT\" %s", args);
}

int64_t t_sql_int(const char *db, const char *fmt, ...)
{
	char sql[4096];
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "open %s", db);
	/* A run may be writing the file right now: wait out its commits. */
	sqlite3_busy_timeout(h, 5000);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

int64_t t_vm_steps(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t steps;
	int rc;

	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "open %s", db);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(h));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(h));
	steps = sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return steps;
}

void t_sql_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	char *msg = NULL;

	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "open %s", db);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
	sqlite3_close(h);
}

int t_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int64_t t_file_hash(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = 1469598103934665603ULL;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		h = (h ^ (uint64_t)c) * 1099511628211ULL;
	fclose(f);
	return (int64_t)(h >> 1);
}

int t_pgrp_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int found = 0;

	while (d && (de = readdir(d)) && !found) {
		char path[300], buf[512], *p;
		FILE *f;
		int pgrp;
		char state;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		/* A zombie has ended; whether anyone reaps it is its parent's business. */
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 1, " %c %*d %d", &state, &pgrp) == 2 && pgrp == pgid && state != 'Z')
			found = 1;
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

int t_sanitized(void)
{
	return getenv("POOLTRACE_SANITIZED") != NULL;
}

int t_tagged_alive(const char *tag)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t taglen = strlen(tag);
	int found = 0;

	while (d && (de = readdir(d))) {
		char path[300], buf[65536], *p;
		FILE *f;
		size_t n;
		char state = 'Z';

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
			sscanf(p + 1, " %c", &state);
		fclose(f);
		if (state == 'Z')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		for (size_t i = 0; i + taglen <= n; i += strlen(buf + i) + 1)
			if (!strncmp(buf + i, tag, taglen) && (i + taglen == n || buf[i + taglen] == '\0')) {
				found++;
				break;
			}
	}
	if (d)
		closedir(d);
	return found;
}
