/* helpers.h: what the end-to-end tests share: running the real binary, temp dirs, SQL counts. */
#ifndef POOLTRACE_TEST_HELPERS_H
#define POOLTRACE_TEST_HELPERS_H

#include <stdint.h>
#include <sys/types.h>

/* A fresh directory for one test; its path lives until exit. */
const char *t_tmpdir(void);
/* t_tmpdir()/name, in a static ring of 64 buffers (valid for the next 63 calls). */
const char *t_path(const char *name);

struct t_result {
	int status;     /* exit status, or 128+signal */
	char out[65536];
	char err[8192];
};

/*
 * Runs `pooltrace ARGS` (a shell fragment, e.g. "run --db x.db -w 3") in the
 * test's directory, capturing stdout and stderr. Returns the exit status.
 */
int t_run(struct t_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs a shell script in the test's directory with $PT set to the binary. */
int t_sh(struct t_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One integer from SQL against db (asserts on error). */
int64_t t_sql_int(const char *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The virtual machine steps SQLite takes to answer sql in full: the work done, counted exactly. */
int64_t t_vm_steps(const char *db, const char *sql);

/* Runs a script of statements against db, read-write (asserts on error): to make old or damaged files. */
void t_sql_exec(const char *db, const char *sql);

/* Number of lines in s. */
int t_lines(const char *s);

/* sha-like fingerprint of a file's bytes (FNV-1a 64), -1 if unreadable. */
int64_t t_file_hash(const char *path);

/* True if a process of process group pgid is still alive (zombies have ended). */
int t_pgrp_alive(pid_t pgid);

/*
 * How many live (not zombie) processes have tag, a whole "NAME=VALUE", in
 * their environment: a test gives pooltrace a tag of its own, and the pool
 * inherits it, so its processes can be found even after pooltrace is gone.
 */
int t_tagged_alive(const char *tag);

/* Gives processes started from now on the sanitizer options meant for pooltrace itself. */
void t_sanitizer_env(void);

/* True when running the sanitizer build (tests that ptrace skip leak checks). */
int t_sanitized(void);

#endif
