/* json.h: JSON text written to a stream: strings escaped so that any bytes give valid JSON, and exact numbers. */
#ifndef POOLTRACE_JSON_H
#define POOLTRACE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Writes t as a JSON string: '"' and '\\' escaped, \n and \t as themselves,
 * every other control character (and DEL) as \u00NN, valid UTF-8 as it is,
 * and each byte that does not start a valid UTF-8 sequence (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, a cut
 * sequence) as \ufffd. NULL is written null. Write errors are left in the
 * stream (ferror), for the caller to find once at the end.
 */
void json_write_str(FILE *out, const char *t);
/* The same for len bytes of t, which may hold NUL bytes (written \u0000); t[len] must be NUL. */
void json_write_strn(FILE *out, const char *t, size_t len);
/* len bytes as a JSON string of lower-case hex digits, two per byte: what a blob becomes. */
void json_write_hex(FILE *out, const void *data, size_t len);
/* A 64-bit integer, exactly (JSON has no limit on a number's digits). */
void json_write_int(FILE *out, int64_t v);
/* A double in the fewest digits (15 to 17) that read back as it, with ".0" when it has no point; NaN and infinities, which JSON lacks, as null. */
void json_write_real(FILE *out, double v);

#endif
