/* evlog.h: the shared event log: a ring of fixed-size records in an anonymous MAP_SHARED mapping. */
#ifndef POOLTRACE_EVLOG_H
#define POOLTRACE_EVLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum evlog_kind {
	EV_PIPE = 1,
	EV_FORK,
	EV_INHERIT,
	EV_CLOSE,
	EV_CLOSE_RANGE,
	EV_DUP2,
	EV_WRITE,
	EV_READ,
	EV_READ_ZERO,
	EV_TASK,
	EV_EXIT,
	EV_REAP,
	EV_HANG,
	EV_KILL,
	EV_OVERFLOW,
	EV_EXEC,     /* the process exec'd: text = the program */
	EV_DUP,      /* dup or fcntl F_DUPFD: fd = the new fd, fd2 = the old one */
	EV_CLOEXEC,  /* fd closed by that exec (close-on-exec), observed, not modelled */
	EV_BLOCKED,  /* found blocked on a pipe while others ran: not a deadlock; evidence as for hang */
	EV_CHECK,    /* a reader's own check of what it read: arg = records intact, result = records torn */
	EV_SOCKETPAIR, /* fd, fd2 = sv[0], sv[1]; inode = sv[0]'s, arg = sv[1]'s */
	EV_RECEIVE,    /* an fd received over a unix socket (SCM_RIGHTS): fd = the new fd, fd2 = the socket */
	EV_SHUTDOWN,   /* shutdown of a socketpair end's sending side (SHUT_WR, SHUT_RDWR): arg = how */
	/* Open at a snapshot, its history before unknown: a process (no fd; other_pid = its parent,
	 * text = its program) or one of its fds (fd, inode and pipe_end of a pipe; text = the link). */
	EV_FOUND,
	EV_KIND_MAX
};

/* END_SOCKET: an end of a socketpair made in the run (both ways at once). */
enum evlog_end { END_NONE = 0, END_READ, END_WRITE, END_RDWR, END_SOCKET };

/* Which optional fields of a record hold a value (the others are SQL NULL). */
enum evlog_has {
	HAS_FD = 1 << 0,
	HAS_FD2 = 1 << 1,
	HAS_INODE = 1 << 2,
	HAS_RESULT = 1 << 3,
	HAS_ARG = 1 << 4,
	HAS_OTHER_PID = 1 << 5,
	HAS_SIGNAL = 1 << 6,
	HAS_LONG_TEXT = 1 << 7, /* text names a span of the text arena: see evlog_set_text */
};

#define EVLOG_TEXT_MAX 68
/* The text arena: room for long texts (file names up to PATH_MAX) between drains. */
#define EVLOG_ARENA_SIZE (1u << 20)

/*
 * One event. 128 bytes, so two processes writing neighbouring records never
 * share a cache line. `ready` is written last (release) and equals index + 1
 * once the record is complete; the reader trusts no other field before that.
 */
struct evlog_record {
	_Atomic uint64_t ready;
	uint64_t ts_ns;
	uint64_t inode;
	int64_t result;
	int64_t arg;
	int32_t pid;
	int32_t other_pid;
	int32_t fd;
	int32_t fd2;
	uint8_t kind;
	uint8_t pipe_end;
	uint8_t signal;
	uint8_t has;
	char text[EVLOG_TEXT_MAX];
};

struct evlog;

/*
 * Maps a log of `capacity` records (rounded up to a power of two) before any
 * fork, so every process of the run shares it. No fd is involved. A writer that
 * finds the log full waits up to wait_ms for the reader, then drops the event
 * and counts it in evlog_dropped(). Returns NULL with errno set on failure.
 */
struct evlog *evlog_create(size_t capacity, unsigned wait_ms);
void evlog_destroy(struct evlog *log);

/*
 * Appends a copy of *rec (its ready field is ignored), stamping the time.
 * Returns the event's sequence number (1-based, global across processes), or 0
 * if the event was dropped because the log stayed full. Async-signal-safe and
 * lock-free: it only uses atomics and clock_gettime.
 */
uint64_t evlog_append(struct evlog *log, const struct evlog_record *rec);

/*
 * Two-step append, for an event whose place in the order is fixed before its
 * content is known: `fork` takes its seq in the parent before fork(2), and
 * the child fills it in. evlog_reserve returns the seq (0: dropped, log full);
 * evlog_fill completes it, copying rec including its ts_ns. Any process
 * sharing the mapping may fill a seq another one reserved.
 */
uint64_t evlog_reserve(struct evlog *log);
void evlog_fill(struct evlog *log, uint64_t seq, const struct evlog_record *rec);
uint64_t evlog_now_ns(void);

/*
 * Never waits and counts nothing: returns 0 when the log is full. For the
 * reader itself, which would wait on itself; it drains and tries again, and
 * calls evlog_count_drop only if it finally gives up.
 */
uint64_t evlog_try_append(struct evlog *log, const struct evlog_record *rec);
void evlog_count_drop(struct evlog *log);

/*
 * Sets rec's text to s, whole. A text that fits the record is copied into
 * it; a longer one (a file name: PATH_MAX) is only pointed to, and s must
 * live until rec is appended: evlog_append (or evlog_fill) then copies it
 * into the log's text arena, a span of the same fd-less mapping that the
 * stored record names. Only when the arena is full (the reader far behind)
 * is the text cut, keeping its end behind "…". Async-signal-safe.
 */
void evlog_set_text(struct evlog_record *rec, const char *s);

/* The reader's copies of the long texts of the records it drained. */
struct evlog_span {
	uint64_t from, end;
};
struct evlog_texts {
	char *buf;
	size_t len, cap;
	struct evlog_span *spans; /* drained arena spans not yet freed (one before them is not drained) */
	size_t nspans, spans_cap;
};

/*
 * Reader side (one reader only). Copies up to max complete records, in
 * sequence order, into out and frees their slots; their long texts are
 * copied into texts (emptied first) and their arena space freed. Stops at
 * the first record still being written. Returns how many were copied;
 * out[i].ready holds the seq.
 */
size_t evlog_drain(struct evlog *log, struct evlog_record *out, size_t max, struct evlog_texts *texts);

/*
 * For a source that makes its records itself (the ptrace tracer): sets r's
 * text to s, a long one kept in texts, as evlog_drain would have left it.
 */
void evlog_texts_attach(struct evlog_texts *texts, struct evlog_record *r, const char *s);

/* The text of a record drained into texts: "" when it has none. Valid until the next drain. */
const char *evlog_text(const struct evlog_record *r, const struct evlog_texts *texts);
void evlog_texts_release(struct evlog_texts *texts);

/*
 * For use once no writer can be alive: skips slots that were claimed but never
 * completed (a writer killed mid-append). Returns how many were skipped.
 */
uint64_t evlog_skip_torn(struct evlog *log);

/* Number of sequence numbers handed out so far; changes whenever any process records. */
uint64_t evlog_head(const struct evlog *log);
/* Records claimed but not yet drained (reader side). */
uint64_t evlog_pending(const struct evlog *log);
/* Events dropped because the log was full. */
uint64_t evlog_dropped(const struct evlog *log);
size_t evlog_capacity(const struct evlog *log);

const char *evlog_kind_name(int kind);
const char *evlog_end_name(int end);

#endif
