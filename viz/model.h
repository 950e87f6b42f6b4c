/* model.h: the fd graph of one run at one moment, loaded from the trace database. */
#ifndef POOLTRACE_VIZ_MODEL_H
#define POOLTRACE_VIZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct sqlite3_stmt;

struct viz_fd {
	int fd;
	int64_t pipe_id;   /* 0: not a pool pipe */
	uint64_t inode;    /* 0: not a pipe */
	bool write_end;    /* else read end (pipes only) */
	bool socket_end;   /* an end of a socketpair (both ways at once; write_end false) */
	bool foreign;
	bool leaked;       /* a hold counted by leaked_write_ends */
	char *detail;      /* what a foreign fd is (a path, a tty) */
};

struct viz_proc {
	int pid;
	bool parent;
	int worker_index;  /* -1 for the parent */
	bool alive;        /* at the moment; dead ones are drawn faded, without fds */
	char program[48];  /* a recorded process: its program's name ("" in pool runs) */
	char status[48];   /* "exited 0", "killed by signal 9", or "" while alive */
	char blocked[96];  /* found blocked at the moment: what in, how full the pipe ("" if nothing) */
	char where[64];    /* record --stacks: the program's own frame its blocked call was made from, "cxxpool.cpp:66 in work" ("" if none) */
	/* Its other threads found blocked (a hang names them, "tid=N"): "thread N: call" lines, '\n' after each. */
	char threads[192];
	int nthreads;      /* how many, also those that did not fit */
	bool cut;          /* a recorded process not drawn (viz_model_cut) */
	struct viz_fd *fds;
	size_t nfds, cap;
};

struct viz_pipe {
	int64_t pipe_id;
	uint64_t inode;
	int channel;
	bool socket;              /* an end of a socketpair (schema 6): peer_id is the other end */
	int64_t peer_id;
	int64_t queued, capacity; /* seen by a process blocked on it at the moment; capacity 0: not seen */
	/* The one live process that holds every end of it (and of its socketpair peer) at the moment,
	 * none of them leaked: a pipe of its own (a runtime's self-pipe); 0 otherwise. */
	int own_pid;
	bool cut;          /* a recorded program's pipe no drawn process holds (viz_model_cut) */
};

/* An edge of the wait-for graph at the deadlock (the wait_for view). */
struct viz_wait {
	int pid, waits_for; /* VIZ_WAIT_GROUP: the processes not drawn, as one (a bundle) */
	int64_t pipe_id;   /* 0: a wait for a child (or a bundle) */
	bool socket;       /* pipe_id is a socketpair's end (the peer of the one it is blocked on) */
	bool cycle;        /* on a cycle: part of the deadlock itself (a bundle: any of its edges) */
	int64_t bundled;   /* > 0: a bundle of this many edges between a drawn process and those not drawn */
};
#define VIZ_WAIT_GROUP 0

struct viz_model {
	int64_t run_id;
	int64_t schema;    /* the file's schema version (older files are read as they are) */
	char strategy[32]; /* the pool's; "" for a recorded program */
	bool pool;         /* a run of the built-in pool (read once, with the run): a parent, workers by index, pipes by channel */
	char command[96];  /* a recorded program's command line */
	char outcome[16];  /* "" while the run had none */
	char incomplete[160]; /* runs.incomplete: why the trace misses calls ("" when it does not) */
	int workers;
	int64_t seq;       /* the moment: state after this event */
	int64_t last_seq;
	char moment[48];   /* "shutdown (seq 87)" */
	struct viz_proc *procs;
	size_t nprocs, procs_cap;
	struct viz_pipe *pipes; /* pool pipes with at least one live holder */
	size_t npipes, pipes_cap;
	struct viz_proc *last_proc; /* while loading: the process the last fd row was for */
	int64_t leaked_now;     /* live holds counted by leaked_write_ends */
	int64_t blockers_now;   /* eof_blockers whose close happened and who still hold on */
	int64_t blockers_run;   /* eof_blockers of the whole run */
	/* At or after a detected deadlock: who waits for whom, among the processes that may be drawn
	 * (viz_model_load_waits: one edge more when none is among them). */
	struct viz_wait *waits;
	size_t nwaits, waits_cap;
	/* A pool run's shutdown as the parent did it, for captions: "closes
	 * pipe 1, waits for worker 0 (hangs)" ("" for a recorded program), and
	 * how many write ends of other workers' pipes the workers closed. */
	char shutdown[160];
	int64_t sibling_closes;
	size_t cut_procs, cut_pipes; /* what viz_model_cut left out of the picture */
	int cut_max, cut_keep;       /* the limits it cut by */
};

/* Marks the edges of waits[0..n) that lie on a cycle (both ends in one strongly connected component). */
void viz_waits_mark_cycles(struct viz_wait *waits, size_t n);

/*
 * A wait-for graph taken edge by edge (waitfor.c), for marking a few of its
 * edges by cycles of the whole: render draws a handful of a 1000-worker
 * deadlock's half million edges. viz_waitgraph_mark marks each of
 * waits[0..n) that lies on a cycle of g (no edge is added after it);
 * viz_waitgraph_first gives g's first edge, marked (false: g has none).
 */
struct viz_waitgraph;
struct viz_waitgraph *viz_waitgraph_new(void);
void viz_waitgraph_add(struct viz_waitgraph *g, int pid, int waits_for);
void viz_waitgraph_mark(struct viz_waitgraph *g, struct viz_wait *waits, size_t n);
/*
 * The edges of g with one end among the sorted drawn[0..n) and the other not,
 * bundled per drawn process and direction ("worker 2 -> the others", "the
 * others -> parent"), the other end VIZ_WAIT_GROUP, each with its count and
 * marked cycle when any of its edges is on one. Edges between two processes
 * not drawn are left out. Returns how many, with *out allocated (NULL: none).
 */
size_t viz_waitgraph_bundle(struct viz_waitgraph *g, const int *drawn, size_t n, struct viz_wait **out);
bool viz_waitgraph_first(struct viz_waitgraph *g, struct viz_wait *w);
void viz_waitgraph_free(struct viz_waitgraph *g);

/*
 * Resolves MOMENT for run_id (a seq number, or spawned, shutdown, hang, end)
 * and loads the processes, fd tables and pipes at it, cut as
 * viz_model_cut(m, max, keep) cuts, with the wait-for edges among the
 * processes a picture of it with those limits may draw (a pool's parent and
 * the workers viz_fdgraph_worker_shown names; a recorded program's not
 * cut). Returns 0; -EINVAL for an unknown run, a run with no events, or a
 * moment that did not happen in it; -EIO when the database could not be
 * read. On failure one error line is printed and m is empty.
 */
int viz_model_load(struct store *st, int64_t run_id, const char *moment, int max, int keep, struct viz_model *m);
void viz_model_release(struct viz_model *m);

/*
 * A recorded program with more than max processes below its first one
 * (fork order): marks all but the first and last keep of them cut, and
 * every pipe that no process still drawn holds at the moment, and counts
 * them in m->cut_procs and m->cut_pipes. A pool run is left as it is (its
 * workers are cut by index). Without this, a chain of 60 processes, each
 * holding every pipe above it, gave dot 3600 edges to order: minutes.
 * viz_model_load does it, before it loads the wait-for edges among what is
 * left.
 */
void viz_model_cut(struct viz_model *m, int max, int keep);

/* Only the run's own facts (schema, strategy or command, workers, outcome, last seq): no moment. Same returns. */
int viz_model_load_run(struct store *st, int64_t run_id, struct viz_model *m);

/*
 * Appends m->run_id's wait-for graph (schema 5's view; nothing for older
 * files, as m->schema says) to m->waits in the view's order (seq, then
 * waits_for), each edge on a cycle of the whole graph marked: every edge
 * when pids is NULL, else those between two of pids[0..npids). When the
 * graph has edges but none between them, one edge of it is appended all
 * the same (an end of it is not in pids), so that nwaits > 0 still says
 * the run has a wait-for graph. 0 or -EIO.
 */
int viz_model_load_waits(struct store *st, struct viz_model *m, const int *pids, size_t npids);

/* A text column, or "" for NULL: a hand-edited database may hold NULL anywhere. */
const char *viz_col_text(struct sqlite3_stmt *s, int col);

#endif
