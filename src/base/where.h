/* where.h: a place in a program's code in words, as explain and render say it (record --stacks). */
#ifndef POOLTRACE_WHERE_H
#define POOLTRACE_WHERE_H

#include "base/sbuf.h"

#include <stdint.h>

/*
 * Appends "cxxpool.cpp:24 in ProcessPool::ProcessPool" when file (a base
 * name) and line > 0 are known, else "ProcessPool::ProcessPool in
 * cxxpool+0x1770" (the function when known, then module+offset; "?" for no
 * module). function is the short name (function_short_name); NULL or "" for none.
 */
void where_words(struct sbuf *b, const char *file, int line, const char *function, const char *module, int64_t offset);

#endif
