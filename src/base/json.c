/* json.c: JSON text written to a stream: strings escaped so that any bytes give valid JSON, and exact numbers. */
#include "base/json.h"

#include "base/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_write_strn(FILE *out, const char *t, size_t len)
{
	const unsigned char *p = (const unsigned char *)t, *end = p + len, *run;

	fputc('"', out);
	/* t[len] is NUL, so utf8_seq_len never reads past it: a NUL byte is
	 * not a continuation byte, and a sequence cut by one is invalid. */
	while (p < end) {
		int n;

		/* Bytes written as they are go out in one call (most text is only those). */
		for (run = p; p < end; p += n) {
			if (*p < 0x80)
				n = *p >= 0x20 && *p != '"' && *p != '\\' && *p != 0x7f;
			else
				n = utf8_seq_len(p);
			if (!n)
				break;
		}
		if (p > run)
			fwrite(run, 1, (size_t)(p - run), out);
		if (p == end)
			break;
		if (*p >= 0x80)
			fputs("\\ufffd", out);
		else if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else
			fprintf(out, "\\u%04x", *p);
		p++;
	}
	fputc('"', out);
}

void json_write_str(FILE *out, const char *t)
{
	if (!t)
		fputs("null", out);
	else
		json_write_strn(out, t, strlen(t));
}

void json_write_hex(FILE *out, const void *data, size_t len)
{
	const unsigned char *p = data;

	fputc('"', out);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", p[i]);
	fputc('"', out);
}

void json_write_int(FILE *out, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	/* By hand: printf's parsing of the format was a sixth of a large export. */
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), out);
}

void json_write_real(FILE *out, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		fputs("null", out);
		return;
	}
	/* The shortest of 15, 16 or 17 digits that reads back as v. */
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* Still a real to a reader that tells 3 from 3.0. */
	if (!strpbrk(buf, ".eE"))
		strcat(buf, ".0");
	fputs(buf, out);
}
