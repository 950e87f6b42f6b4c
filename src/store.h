/* store.h: the SQLite trace database: opening and validating it, its schema, runs. */
#ifndef POOLTRACE_STORE_H
#define POOLTRACE_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 3
#define STORE_APPLICATION_ID 1886679651 /* 'ptrc' */
/* Used when neither --db nor $POOLTRACE_DB names a file. */
#define STORE_DEFAULT_PATH "pooltrace.db"

enum store_mode { STORE_READ, STORE_WRITE };

struct store {
	sqlite3 *db;
	char *path;
};

/* --db FILE if given, else $POOLTRACE_DB, else STORE_DEFAULT_PATH. */
const char *store_default_path(const char *given);

/*
 * Opens path. STORE_READ opens read-only and requires an existing trace
 * database. STORE_WRITE creates the file (with the schema) if it does not
 * exist, and otherwise requires a trace database this version can write,
 * upgrading a version 1 or 2 file in place (in one transaction). A file that is
 * not a trace, or comes from a newer pooltrace, is left untouched. On failure prints one error line and returns -1.
 */
int store_open(const char *path, enum store_mode mode, struct store **out);
void store_close(struct store *st);

/* Runs sql, which returns no rows. Prints sqlite's message and returns -1 on error. */
int store_exec(struct store *st, const char *sql);

/* Prepares sql; prints sqlite's message and returns NULL on error. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql);

/* Single integer answer of sql with ?1 = a; returns def when there is no row. */
int64_t store_int(struct store *st, const char *sql, int64_t a, int64_t def);

/* 0 if run id exists in the database; else prints an error and returns -1. */
int store_check_run(struct store *st, int64_t run_id);
/* The newest run's id, or -1 with an error printed when there is none. */
int64_t store_last_run(struct store *st);

#endif
