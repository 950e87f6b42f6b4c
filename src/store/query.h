/* query.h: runs user SQL against a trace database and prints the rows as an aligned table or CSV. */
#ifndef POOLTRACE_QUERY_H
#define POOLTRACE_QUERY_H

#include <stdbool.h>
#include <stdio.h>

struct store;

/*
 * Runs every statement in sql, in order, printing each one's rows to out: an
 * aligned table with a header (NULL shown empty), or RFC 4180 CSV when csv.
 * Returns 0; -EINVAL for a bad statement or one that would change the
 * database (SQLite's own message printed); -EIO when a read failed.
 */
int query_print(struct store *st, const char *sql, bool csv, FILE *out);

#endif
