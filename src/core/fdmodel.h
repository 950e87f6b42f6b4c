/* fdmodel.h: the fd tables of a run's processes as its events describe them: events in, holds out. */
#ifndef POOLTRACE_FDMODEL_H
#define POOLTRACE_FDMODEL_H

#include <stdint.h>
#include <sys/types.h>

/*
 * One fd of one process, from the event that opened it to the one that ended
 * it. Seqs are 0 for "none": to_seq while the hold is open, touched_seq while
 * the process has made no call on the fd.
 */
struct fdmodel_hold {
	uint64_t inode;       /* 0: not a pipe */
	uint64_t from_seq, to_seq;
	uint64_t touched_seq; /* the first call the holder made on this fd: read, write, dup, close */
	int64_t pipe_id;      /* 0: not a pipe created in the run */
	const char *from_kind, *to_kind; /* static strings: event kinds */
	char *detail;         /* owned: what a non-pipe fd is */
	pid_t pid;
	int fd;
	uint8_t end;          /* enum evlog_end */
};

struct fdmodel;

/* Receives each hold as it ends (and each open one at fdmodel_finish); ownership passes. */
typedef void fdmodel_ended_fn(void *ctx, struct fdmodel_hold *h);

struct fdmodel *fdmodel_new(fdmodel_ended_fn *ended, void *ctx);
/* Frees the model and the holds still open in it. NULL is fine. */
void fdmodel_free(struct fdmodel *m);
void fdmodel_hold_free(struct fdmodel_hold *h);

/* Process pid exists from seq (its fork): the fds it was born with are held from then. */
void fdmodel_begin(struct fdmodel *m, pid_t pid, uint64_t seq);

/* An fd pid was born with, observed at seq; held since fdmodel_begin's seq (else since seq). */
void fdmodel_inherit(struct fdmodel *m, pid_t pid, int fd, uint64_t inode, int end, int64_t pipe_id,
		     const char *detail, uint64_t seq);

/*
 * fd now refers to something new (pipe, dup2 onto it): what it held before
 * ends there, touched, since the call was made on it.
 */
void fdmodel_open(struct fdmodel *m, pid_t pid, int fd, uint64_t inode, int end, int64_t pipe_id,
		  const char *detail, uint64_t seq, const char *kind);

/* A call on fd that leaves it open (read, write, dup from it). */
void fdmodel_touch(struct fdmodel *m, pid_t pid, int fd, uint64_t seq);

/* fd closed by the process (close, close_range): ended and touched. */
void fdmodel_close(struct fdmodel *m, pid_t pid, int fd, uint64_t seq, const char *kind);
void fdmodel_close_range(struct fdmodel *m, pid_t pid, int first, int last, uint64_t seq, const char *kind);

/* The process ended (exit, or reaped after a signal): every fd released, none touched by it. */
void fdmodel_end_process(struct fdmodel *m, pid_t pid, uint64_t seq, const char *kind);

/* Hands over every hold still open (to_seq 0), process by process. */
void fdmodel_finish(struct fdmodel *m);

#endif
