/* event_text.c: one event in words ("close 4 (pipe 1 write)"), the same in the timeline and the report. */
#include "viz/event_text.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

void viz_event_text(sqlite3_stmt *s, char *buf, size_t len)
{
	const char *kind = (const char *)sqlite3_column_text(s, 2);
	int fd = sqlite3_column_int(s, 3), fd2 = sqlite3_column_int(s, 4);
	long long pipe = sqlite3_column_int64(s, 5);
	const char *end = (const char *)sqlite3_column_text(s, 6);
	int other = sqlite3_column_int(s, 7);
	long long arg = sqlite3_column_int64(s, 8);
	const char *detail = (const char *)sqlite3_column_text(s, 10);
	char what[64] = "";

	if (sqlite3_column_type(s, 5) != SQLITE_NULL && end && !strcmp(end, "socket"))
		snprintf(what, sizeof(what), " (socket %lld)", pipe);
	else if (sqlite3_column_type(s, 5) != SQLITE_NULL)
		snprintf(what, sizeof(what), " (pipe %lld %s)", pipe, end ? end : "");
	if (!strcmp(kind, "pipe"))
		snprintf(buf, len, "pipe → %d, %d (pipe %lld)", fd, fd2, pipe);
	else if (!strcmp(kind, "socketpair"))
		snprintf(buf, len, "socketpair → %d, %d (sockets %lld, %lld)", fd, fd2, pipe, pipe + 1);
	else if (!strcmp(kind, "close"))
		snprintf(buf, len, "close %d%s", fd, what);
	else if (!strcmp(kind, "close_range"))
		snprintf(buf, len, "close_range %d..%s", fd, fd2 == 2147483647 ? "max" : "");
	else if (!strcmp(kind, "dup2"))
		snprintf(buf, len, "dup2 %d → %d%s", fd2, fd, what);
	else if (!strcmp(kind, "receive"))
		snprintf(buf, len, "receive fd %d over fd %d%s", fd, fd2, what);
	else if (!strcmp(kind, "shutdown"))
		snprintf(buf, len, "shutdown %d, %s%s", fd, arg == 1 ? "SHUT_WR" : "SHUT_RDWR", what);
	else if (!strcmp(kind, "found") && sqlite3_column_type(s, 3) == SQLITE_NULL)
		snprintf(buf, len, "found running: %s", detail ? detail : "");
	else if (!strcmp(kind, "found"))
		snprintf(buf, len, "found fd %d%s%s%s", fd, what[0] ? what : " (", what[0] ? "" : detail ? detail : "?",
			 what[0] ? "" : ")");
	else if (!strcmp(kind, "read_zero"))
		snprintf(buf, len, "read fd %d = 0: EOF", fd);
	else if (!strcmp(kind, "exit"))
		snprintf(buf, len, "exit %lld", arg);
	else if (!strcmp(kind, "reap") && sqlite3_column_type(s, 9) != SQLITE_NULL && sigabbrev_np(sqlite3_column_int(s, 9)))
		snprintf(buf, len, "reap %d: killed by SIG%s", other, sigabbrev_np(sqlite3_column_int(s, 9)));
	else if (!strcmp(kind, "reap"))
		snprintf(buf, len, "reap %d: %s", other,
			 sqlite3_column_type(s, 9) != SQLITE_NULL ? "killed" : "exited");
	else if (!strcmp(kind, "blocked") && sqlite3_column_type(s, 11) != SQLITE_NULL)
		snprintf(buf, len, "blocked in %s(fd %d)%s: %lld of %lld B queued", end && !strcmp(end, "write") ? "write" : "read",
			 fd, what, (long long)sqlite3_column_int64(s, 11), arg);
	else if (!strcmp(kind, "blocked"))
		snprintf(buf, len, "blocked: %s", detail ? detail : "");
	else if (!strcmp(kind, "check"))
		snprintf(buf, len, "check: %lld records intact, %lld torn", arg, (long long)sqlite3_column_int64(s, 11));
	else if (!strcmp(kind, "kill"))
		snprintf(buf, len, "kill %d (SIGKILL)", other);
	else if (!strcmp(kind, "hang"))
		snprintf(buf, len, "hang: %s", detail ? detail : "");
	else if (!strcmp(kind, "overflow"))
		snprintf(buf, len, "log full: %lld events lost", arg);
	else
		snprintf(buf, len, "%s", kind);
}
