/* query.c: runs user SQL against a trace database and prints the rows as an aligned table, CSV, or JSON. */
#include "store/query.h"

#include "store/store.h"
#include "base/json.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct query_table {
	int ncols;
	char **cells;     /* row-major, header first; NULL for SQL NULL */
	size_t nrows, cap;
	size_t *width;
	int *numeric;     /* right-align columns that only hold numbers */
};

/* Display width in characters: UTF-8 continuation bytes take no column. */
static size_t query_width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static void query_csv_cell(FILE *out, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Prints one CSV record and frees its cells. */
static void query_csv_row(FILE *out, char **row, int ncols)
{
	for (int c = 0; c < ncols; c++) {
		if (c)
			fputc(',', out);
		query_csv_cell(out, row[c]);
		free(row[c]);
	}
	fputc('\n', out);
}

/* One row as a JSON object, the column names as keys, each value as SQLite typed it. */
static void query_json_row(FILE *out, sqlite3_stmt *stmt, int ncols)
{
	fputc('{', out);
	for (int c = 0; c < ncols; c++) {
		if (c)
			fputs(", ", out);
		json_write_str(out, sqlite3_column_name(stmt, c));
		fputs(": ", out);
		switch (sqlite3_column_type(stmt, c)) {
		case SQLITE_INTEGER:
			json_write_int(out, sqlite3_column_int64(stmt, c));
			break;
		case SQLITE_FLOAT:
			json_write_real(out, sqlite3_column_double(stmt, c));
			break;
		case SQLITE_TEXT: {
			const char *text = (const char *)sqlite3_column_text(stmt, c);

			json_write_strn(out, text ? text : "", text ? (size_t)sqlite3_column_bytes(stmt, c) : 0);
			break;
		}
		case SQLITE_BLOB: {
			const void *blob = sqlite3_column_blob(stmt, c);

			json_write_hex(out, blob, blob ? (size_t)sqlite3_column_bytes(stmt, c) : 0);
			break;
		}
		default:
			fputs("null", out);
		}
	}
	fputc('}', out);
}

/*
 * Prints one prepared statement's rows as JSON: an array of objects, one a
 * line, or (jsonl) just the objects, one a line. Returns the last
 * sqlite3_step code (SQLITE_DONE when every row was read).
 */
static int query_statement_json(sqlite3_stmt *stmt, bool jsonl, FILE *out)
{
	int ncols = sqlite3_column_count(stmt), rc;
	size_t rows = 0;

	if (!jsonl)
		fputc('[', out);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!jsonl)
			fputs(rows ? ",\n" : "\n", out);
		query_json_row(out, stmt, ncols);
		if (jsonl)
			fputc('\n', out);
		rows++;
	}
	if (!jsonl)
		fputs(rows ? "\n]\n" : "]\n", out);
	return rc;
}

static void query_table_add(struct query_table *t, char **row)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof(*t->cells));
	}
	memcpy(&t->cells[t->nrows * (size_t)t->ncols], row, (size_t)t->ncols * sizeof(*row));
	for (int c = 0; c < t->ncols; c++) {
		size_t w = query_width(row[c]);

		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
}

static void query_table_print(const struct query_table *t, FILE *out)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * (size_t)t->ncols + c];
			size_t pad = t->width[c] - query_width(s);
			int right = r > 0 && t->numeric[c];

			if (c)
				fputs("  ", out);
			if (right)
				fprintf(out, "%*s", (int)pad, "");
			fputs(s ? s : "", out);
			if (!right && c + 1 < t->ncols)
				fprintf(out, "%*s", (int)pad, "");
		}
		fputc('\n', out);
		if (r == 0) {
			for (int c = 0; c < t->ncols; c++) {
				if (c)
					fputs("  ", out);
				for (size_t i = 0; i < t->width[c]; i++)
					fputc('-', out);
			}
			fputc('\n', out);
		}
	}
}

static void query_table_free(struct query_table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t->numeric);
}

/*
 * Prints one prepared statement's rows. Returns 0, -EINVAL when the
 * statement asked for what query refuses (an extension), or -EIO when it
 * failed as it read the file (a damaged page, malformed stored data: SQLite
 * says both with the same codes, so every other failure counts as the
 * file's), with the message printed.
 */
static int query_statement(struct store *st, sqlite3_stmt *stmt, enum query_format format, FILE *out)
{
	struct query_table t = { .ncols = sqlite3_column_count(stmt) };
	bool csv = format == QUERY_CSV;
	char **row = NULL;
	int rc, ret = 0;

	if (format == QUERY_JSON || format == QUERY_JSONL) {
		/* A statement with no columns prints nothing, as in a table. */
		if (t.ncols > 0)
			rc = query_statement_json(stmt, format == QUERY_JSONL, out);
		else
			while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
				;
		t.ncols = 0; /* printed already */
		goto done;
	}
	if (t.ncols > 0) {
		t.width = xcalloc((size_t)t.ncols, sizeof(*t.width));
		t.numeric = xcalloc((size_t)t.ncols, sizeof(*t.numeric));
		row = xcalloc((size_t)t.ncols, sizeof(*row));
		for (int c = 0; c < t.ncols; c++) {
			row[c] = xstrdup(sqlite3_column_name(stmt, c));
			t.numeric[c] = 1;
		}
		if (csv)
			query_csv_row(out, row, t.ncols);
		else
			query_table_add(&t, row);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int c = 0; c < t.ncols; c++) {
			int type = sqlite3_column_type(stmt, c);
			const char *text = (const char *)sqlite3_column_text(stmt, c);

			row[c] = type == SQLITE_NULL ? NULL : xstrdup(text ? text : "");
			if (type != SQLITE_NULL && type != SQLITE_INTEGER && type != SQLITE_FLOAT)
				t.numeric[c] = 0;
		}
		if (csv)
			query_csv_row(out, row, t.ncols);
		else
			query_table_add(&t, row);
	}
done:
	/* load_extension() on a connection that loads none says only this. */
	if (rc != SQLITE_DONE && (rc & 0xff) == SQLITE_ERROR && !strcmp(sqlite3_errmsg(store_db(st)), "not authorized")) {
		error("query: not authorized: query loads no extension and changes nothing");
		ret = -EINVAL;
	} else if (rc != SQLITE_DONE) {
		error("%s: %s", store_path(st), sqlite3_errmsg(store_db(st)));
		ret = -EIO;
	} else if (!csv && t.ncols > 0)
		query_table_print(&t, out);
	query_table_free(&t);
	free(row);
	return ret;
}

int query_print(struct store *st, const char *sql, enum query_format format, FILE *out)
{
	const char *tail = sql;
	int first = 1;

	while (tail && *tail) {
		sqlite3_stmt *stmt = NULL;
		int rc;

		if (sqlite3_prepare_v2(store_db(st), tail, -1, &stmt, &tail) != SQLITE_OK) {
			if ((sqlite3_errcode(store_db(st)) & 0xff) == SQLITE_AUTH)
				return error("query: %s: ATTACH and DETACH are refused (query reads its one database, "
					     "read-only)", sqlite3_errmsg(store_db(st))), -EINVAL;
			return error("query: %s", sqlite3_errmsg(store_db(st))), -EINVAL;
		}
		if (!stmt)
			continue; /* only whitespace or a comment was left */
		/* SQLite's own judgement, not a match on the text: the connection
		 * would refuse the write anyway, this says why in one line. */
		if (!sqlite3_stmt_readonly(stmt)) {
			error("query: the database is opened read-only, and this statement would change it: %.60s",
			      sqlite3_sql(stmt));
			sqlite3_finalize(stmt);
			return -EINVAL;
		}
		/* Tables are a blank line apart; CSV, JSON arrays and lines follow each other. */
		if (!first && sqlite3_column_count(stmt) > 0 && format == QUERY_TABLE)
			fputc('\n', out);
		first = 0;
		rc = query_statement(st, stmt, format, out);
		sqlite3_finalize(stmt);
		if (rc < 0)
			return rc;
	}
	return 0;
}
