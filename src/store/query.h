/* query.h: runs user SQL against a trace database and prints the rows as an aligned table, CSV, or JSON. */
#ifndef POOLTRACE_QUERY_H
#define POOLTRACE_QUERY_H

#include <stdbool.h>
#include <stdio.h>

struct store;

/* How query_print writes rows. */
enum query_format {
	QUERY_TABLE, /* aligned, with a header and a rule; NULL shown empty */
	QUERY_CSV,   /* RFC 4180, a header line first */
	QUERY_JSON,  /* per statement, one array of objects {"column": value} */
	QUERY_JSONL, /* one object per line, every statement's rows in turn */
};

/*
 * Runs every statement in sql, in order, printing each one's rows to out as
 * format says. In JSON a value keeps its SQLite type: NULL null, an integer
 * an exact 64-bit number, a real a number (null for NaN or an infinity),
 * text a string (any bytes: see json_write_strn), a blob a string of hex
 * digits. Returns 0; -EINVAL for a bad statement or one that would change
 * the database (SQLite's own message printed); -EIO when a read failed.
 */
int query_print(struct store *st, const char *sql, enum query_format format, FILE *out);

#endif
