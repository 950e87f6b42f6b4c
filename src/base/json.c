/* json.c: JSON text written to a stream: strings escaped so that any bytes give valid JSON, and exact numbers. */
#include "base/json.h"

#include "base/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_write_strn(FILE *out, const char *t, size_t len)
{
	const unsigned char *p = (const unsigned char *)t, *end = p + len;

	fputc('"', out);
	/* t[len] is NUL, so utf8_seq_len never reads past it: a NUL byte is
	 * not a continuation byte, and a sequence cut by one is invalid. */
	while (p < end) {
		int n = utf8_seq_len(p);

		if (!n) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fwrite(p, 1, (size_t)n, out);
		p += n;
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
	fprintf(out, "%" PRId64, v);
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
