-- pooltrace trace database, schema version 12.
--
-- One file holds any number of runs. Every table is keyed by run_id.
-- The ground truth is the view `events`: one row per recorded system call or
-- supervisor action, in the global order of `seq`. It is stored in two
-- tables: `event_rows` (fd lifecycle: pipe, fork, inherit, close, dup2, exit,
-- reap, ...) and `io_chunks` (the per-task write, read and task events, many
-- to a row). `processes`, `pipes` and `holds` are derived from the events as
-- they are ingested, so that the views below answer in well under a second
-- even for runs with a million events. Ask questions through the views
-- (events, fd_holds, leaked_write_ends, eof_blockers).
--
-- This file has two parts. The tables come first, each created only if
-- missing; the views follow the "Views" marker. Older files are upgraded in
-- place, in one transaction, by the first `pooltrace run` that writes to them
-- (src/store/store.c): every view is dropped, the tables that changed are renamed
-- aside (the rowid event_rows, version 1's `events`, and version 1 and 2's
-- rowid `holds` are copied into the keyed ones below), the table part runs to add
-- what is missing, and the view part runs again. Version 4 added the outcome
-- 'failed' and runs.failure (its `runs` is copied over from the old table).
-- Version 5 added holds.touched_seq and defined the views without any
-- knowledge of the pool (older holds get touched_seq from how they ended),
-- and runs of any program (`pooltrace record`): runs.source and command, the
-- process role 'process' and processes.program (runs and processes are
-- copied over from the old tables). Version 6 added socketpairs: pipes.kind
-- and pipes.peer_id, and the views read a socket end as both ends at once.
-- Version 7 keyed event_rows by (run_id, seq) (copied over from the old
-- table), added pipes.shut_seq (shutdown of a socketpair end), three small indexes (holds_read_ends, holds_socket_ends,
-- event_rows_hangs) and one by run of hang_holders and of io_chunks, and wrote eof_holders so that a
-- question about one run reads that run's rows only: before, every run's
-- summary paid for every other run in the file (measured: 0.11 s a run once
-- the file held one 1000-worker run). Version 8 added runs.incomplete: why a
-- recorded run is not the whole truth (calls pooltrace saw but cannot follow).
-- Version 9 allowed runs.source 'snapshot' (a CHECK cannot be altered: its
-- `runs` is copied over from the old table). Version 10 added the index
-- holds_write_ends, through which eof_holders asks "does the giver hold
-- another write end of the pipe?" of that process's write ends of that pipe
-- alone: before, it read every hold of the process for each give-up, and a
-- program that made and closed 16,000 pipes took 63 s to count. Version 11
-- allowed runs.source 'attach' and outcome 'detached' (`runs` is copied over
-- from the old table), and added two small partial indexes for the readers:
-- holds_used_write_ends, through which eof_holders finds its give-ups, and
-- event_rows_blocked.
-- Version 12 added the call stacks of `record --stacks`: the tables stacks,
-- stack_frames and event_stacks (new tables only: an upgrade from 10 or 11
-- creates them empty; no existing table or view changes).

-- One row per `pooltrace run` or `pooltrace record`.
CREATE TABLE IF NOT EXISTS runs (
    id              INTEGER PRIMARY KEY,
    -- Where the events came from: 'pool', the built-in pool (run);
    -- 'record', any program traced with ptrace; 'snapshot', the processes
    -- of a live tree read from /proc at one moment (their history before it
    -- is unknown: their processes and fds are `found` events); or 'attach',
    -- a running tree traced from a moment on (record -p: found, then traced).
    source          TEXT    NOT NULL DEFAULT 'pool' CHECK (source IN ('pool', 'record', 'snapshot', 'attach')),
    command         TEXT,              -- record: the command line, shell-quoted; snapshot, attach: how it was asked
    -- The pool's own facts; NULL for a recorded program.
    strategy        TEXT,              -- naive, close-all, reverse-close, child-close, close-range
    workers         INTEGER,
    tasks           INTEGER,
    task_ms         INTEGER,
    crash_worker    INTEGER,           -- NULL: no --crash-worker
    io_events       INTEGER NOT NULL,  -- 0: recorded without per-call read/write events
    -- NULL while the run is going on, or if pooltrace itself was SIGKILLed.
    -- 'failed': the trace could not be stored (a full disk); `failure` says why.
    -- 'detached': attached (record -p), pooltrace let the program go on.
    outcome         TEXT CHECK (outcome IN ('ok', 'deadlock', 'crashed', 'killed', 'interrupted', 'failed', 'detached')),
    started_at      TEXT    NOT NULL,  -- wall clock, UTC, ISO 8601
    started_ns      INTEGER NOT NULL,  -- CLOCK_MONOTONIC, same clock as events.ts_ns
    ended_ns        INTEGER,
    supervisor_pid  INTEGER NOT NULL,  -- the pooltrace process; it reaps orphans
    exit_status     INTEGER,           -- record: the program's exit code, or 128+N for signal N (attach: NULL unless it ended)
    events          INTEGER NOT NULL DEFAULT 0,  -- events stored
    events_dropped  INTEGER NOT NULL DEFAULT 0,  -- events lost to a full log (also `overflow` events)
    events_torn     INTEGER NOT NULL DEFAULT 0,  -- events whose writer was killed mid-record
    failure         TEXT,              -- with outcome 'failed': the error that stopped the trace
    incomplete      TEXT               -- record: why the trace misses calls it saw (i386, io_uring), '; ' between; NULL: none
);

-- Every process of a run: the pool parent and its workers, or every process
-- of a recorded program (role 'process'; threads are part of their process).
CREATE TABLE IF NOT EXISTS processes (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    pid             INTEGER NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('parent', 'worker', 'process')),
    worker_index    INTEGER,           -- NULL for the parent
    program         TEXT,              -- record: what it last exec'd (/proc/PID/exe)
    ppid            INTEGER,           -- as the new process saw it (getppid)
    fork_seq        INTEGER,
    -- Its first read of its task pipe (fd 0): the first read or read_zero
    -- event, or, when that read never returned, the `hang` event that shows it
    -- blocked in it. NULL for the parent.
    first_read_seq  INTEGER,
    exit_seq        INTEGER,           -- its own `exit` event, if it exited normally
    exit_code       INTEGER,
    term_signal     INTEGER,           -- the signal that killed it, if one did
    reap_seq        INTEGER,
    reaped_by       INTEGER,           -- pid of the process whose waitpid reaped it
    PRIMARY KEY (run_id, pid)
) WITHOUT ROWID;

-- Every pipe made in the run; pipe_id numbers them within a run. A
-- socketpair (record) is two rows of kind 'socket', one per end, each the
-- other's peer_id: what is written into one end is read from the other, and
-- a reader of one end sees EOF once every holder of its peer has let go.
-- A hold of a socket end has pipe_end 'socket': it is the write end of the
-- way into its peer and the read end of the way out of it.
CREATE TABLE IF NOT EXISTS pipes (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    pipe_id         INTEGER NOT NULL,
    inode           INTEGER NOT NULL,  -- the kernel's identity: pipe:[inode] (socket:[inode]) in /proc and strace -yy
    channel         INTEGER,           -- the worker it was made for
    created_by      INTEGER NOT NULL,  -- pid
    created_seq     INTEGER NOT NULL,
    read_fd         INTEGER NOT NULL,  -- in the creating process (a socket end: its fd, in both)
    write_fd        INTEGER NOT NULL,
    kind            TEXT    NOT NULL DEFAULT 'pipe' CHECK (kind IN ('pipe', 'socket')),
    peer_id         INTEGER,           -- a socket end: the pipe_id of the other end
    -- A socket end: the first shutdown of its sending side (SHUT_WR or
    -- SHUT_RDWR, a `shutdown` event). From then on its peer's reader sees
    -- EOF, whoever still holds this end: no holder of it keeps EOF away.
    shut_seq        INTEGER,
    PRIMARY KEY (run_id, pipe_id)
) WITHOUT ROWID;

-- The events other than write, read and task (and, in files upgraded from
-- version 1, those too), one row each. Query the `events` view instead.
-- Columns that do not apply to a kind are NULL.
--   kind         what happened (see the README's table of event kinds)
--   pid          the process that made the call (for reap/kill/hang by pooltrace: runs.supervisor_pid
--                for reap and kill; the blocked process for hang)
--   fd           the fd the event is about (pipe: read fd; socketpair: sv[0]; dup2: newfd;
--                close_range: first)
--   fd2          pipe: write fd; socketpair: sv[1]; dup2: oldfd; close_range: last (2147483647 for ~0U)
--   pipe_id      the pool pipe fd refers to (NULL: not a pool pipe)
--   pipe_end     'read' or 'write', observed with fcntl(F_GETFL) on the live fd; 'socket' for
--                an end of a socketpair made in the run
--   inode        pipe inode as fstat saw it, pool pipe or not
--   other_pid    fork: the parent; reap/kill: the reaped/killed process; hang: the awaited child
--   result       the call's return value, or -errno
--   arg          pipe: channel; socketpair: sv[1]'s inode (inode is sv[0]'s); fork: worker index; write/read/task: task code; exit/reap: exit code;
--                dup2: 1 if newfd was open and got replaced; overflow: events dropped
--   signal       reap: terminating signal; kill: signal sent
--   is_foreign   inherit: 1 if the fd is not a pipe the pool created (a tty, a file, another pipe)
--   detail       inherit: what a foreign fd is; dup2: what it replaced; hang, blocked: the kernel's evidence
--   (hang, blocked: result = bytes queued in the pipe it is blocked on (FIONREAD), arg = the pipe's
--    capacity (F_GETPIPE_SZ); NULL when the kernel would not show them. A `blocked` event is a
--    process found blocked on a pipe when nothing was recorded for a while but others were not
--    blocked: no deadlock; once per process and pipe end.)
CREATE TABLE IF NOT EXISTS event_rows (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    seq             INTEGER NOT NULL,  -- global order across all processes of the run, from 1
    ts_ns           INTEGER NOT NULL,  -- CLOCK_MONOTONIC
    pid             INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    fd              INTEGER,
    fd2             INTEGER,
    pipe_id         INTEGER,
    pipe_end        TEXT,
    inode           INTEGER,
    other_pid       INTEGER,
    result          INTEGER,
    arg             INTEGER,
    signal          INTEGER,
    is_foreign      INTEGER,
    detail          TEXT,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
-- Stored in key order, so a run's events are one range of the file, in seq
-- order: a reader of one run reads none of the others' (before version 7 a
-- rowid table, and a small run's picture beside a 1000-worker run read the
-- big run's half million rows too). Rows arrive in key order, so each insert
-- is an append; a secondary index by run cost more (measured on 1M rows:
-- 0.55 s, against 0.40-0.57 s keyed and 0.25-0.27 s with no key at all).
-- Its indexes are partial, of the few `hang` rows: wait_for finds a run's
-- without reading the run's other events.
CREATE INDEX IF NOT EXISTS event_rows_hangs ON event_rows (run_id) WHERE kind = 'hang';
-- And of the few `blocked` rows (version 11), for the pictures' "found
-- blocked" marks: without it, a reader read the run's events for them
-- (0.04 s of every picture of a 1000-worker run, which has none).
CREATE INDEX IF NOT EXISTS event_rows_blocked ON event_rows (run_id) WHERE kind = 'blocked';

-- Every fd every pool process held, from the event that opened it in that
-- process (pipe, inherit, dup2) to the event that ended it (close,
-- close_range, dup2 onto it, exit; or reap when the process died by a
-- signal). to_seq is NULL when the hold outlived the trace. An inherited
-- hold begins at its process's fork event: the child observes its fds just
-- after fork, but it held them from the moment fork copied the table.
-- A row is written when its hold ends (open ones when the run ends), so
-- while a run is going on this table shows only the holds already over.
-- Stored in key order, a process's holds side by side, with no other index:
-- a 1000-worker run has half a million holds, and each secondary index cost
-- ~0.6 s to fill (measured); the views below read a run's holds process by
-- process instead. Questions by pipe scan the run's holds once.
CREATE TABLE IF NOT EXISTS holds (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    pid             INTEGER NOT NULL,
    fd              INTEGER NOT NULL,
    pipe_id         INTEGER,           -- NULL: not a pool pipe
    pipe_end        TEXT,
    inode           INTEGER,
    is_foreign      INTEGER NOT NULL,
    detail          TEXT,              -- what a foreign fd is
    from_seq        INTEGER NOT NULL,
    from_kind       TEXT    NOT NULL,
    to_seq          INTEGER,
    to_kind         TEXT,
    -- The first call the holder made on this fd while it held it: read,
    -- write, dup from it, or the close or dup2 that ended it. NULL: none; an
    -- inherited fd it never touched (from_kind 'inherit') is "untouched".
    touched_seq     INTEGER,
    PRIMARY KEY (run_id, pid, fd, from_seq)
) WITHOUT ROWID;
-- The read ends and socketpair ends of each pipe, for eof_holders' question
-- "does another process still hold the read end?", asked within one run.
-- Partial, so small: a 1000-worker run has 3000 read-end holds among its
-- half million (the write ends, which no question looks up by pipe).
CREATE INDEX IF NOT EXISTS holds_read_ends ON holds (run_id, pipe_id) WHERE pipe_end = 'read';
CREATE INDEX IF NOT EXISTS holds_socket_ends ON holds (run_id, pipe_id) WHERE pipe_end = 'socket';
-- The write ends (and socketpair ends) of each process by pipe, for
-- eof_holders' question "is this its last write end of the pipe?". The
-- primary key reaches a process's holds, but not by pipe: a process that
-- made and closed 16,000 pipes has 32,000 holds, and reading them all for
-- each of its 16,000 give-ups took 63 s (version 9). Its cost is paid when
-- the holds are written: a 1000-worker run's half million write ends (see
-- docs/performance.md).
CREATE INDEX IF NOT EXISTS holds_write_ends ON holds (run_id, pid, pipe_id) WHERE pipe_end IN ('write', 'socket');

-- Evidence of a deadlock: for each process blocked on a pipe (a `hang`
-- event), every process holding the end that could wake it, by fd, as its
-- fd table showed it at detection time (pidfd_getfd, else /proc/PID/fd):
-- the write end for a blocked reader, the read end for a blocked writer (the
-- hang event's pipe_end says which it waits on; files before this change
-- have readers only), and for one blocked on an end of a socketpair, the
-- other end (pipe_id and inode are then the peer's).
CREATE TABLE IF NOT EXISTS hang_holders (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    seq             INTEGER NOT NULL,  -- the `hang` event
    blocked_pid     INTEGER NOT NULL,
    pipe_id         INTEGER,
    inode           INTEGER NOT NULL,
    holder_pid      INTEGER NOT NULL,
    holder_fd       INTEGER NOT NULL
);
-- One run's edges without the other runs'. Only run_id: an index covering
-- wait_for's GROUP BY read a 1000-worker run's 500k edges in 0.09 s, not
-- 0.33 s, but took 0.35 s more to fill at the deadlock (measured).
CREATE INDEX IF NOT EXISTS hang_holders_by_run ON hang_holders (run_id);

-- The per-task events (write, read, task): a busy pool makes three per task,
-- hundreds of thousands a second. Stored one SQLite row each they cost about
-- 1 us apiece, more than the pool spends on a task; so consecutive events of
-- one process, one kind, one fd and one result are packed into a JSON array
-- per chunk (measured: 0.8 M rows/s against 7 M events/s packed). The
-- `events` view unpacks them with SQLite's built-in json_each (about 1 us an
-- event when a query has to read them: the price of the fast writes).
CREATE TABLE IF NOT EXISTS io_chunks (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    kind            TEXT    NOT NULL CHECK (kind IN ('write', 'read', 'task')),
    pid             INTEGER NOT NULL,
    fd              INTEGER,           -- NULL for task
    pipe_id         INTEGER,
    pipe_end        TEXT,
    inode           INTEGER,
    result          INTEGER,           -- the same for every event of a chunk
    first_seq       INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL,
    first_ts_ns     INTEGER NOT NULL,
    n               INTEGER NOT NULL,  -- events in the chunk
    -- [[seq - first_seq, ts_ns - first_ts_ns, arg], ...] in seq order
    events          TEXT    NOT NULL
);
-- A few rows a run (4096 events each): cheap to keep, and a reader of one
-- run's events skips the other runs' chunks.
CREATE INDEX IF NOT EXISTS io_chunks_by_run ON io_chunks (run_id);

-- record --stacks: the calling thread's user-space stack at each pipe,
-- socketpair, fork, dup, close of a pipe end and exec (not at reads or
-- writes), unwound with libdwfl while the thread was stopped in the call;
-- and at a deadlock the stack each thread blocks in (its hang event),
-- unwound at an interrupt just before the kill.
-- Each distinct stack is one row, keyed by a hash of its frames' modules
-- and module offsets (so the same code path in every process of the run is
-- one row, wherever ASLR loaded it); an event names its stack in
-- event_stacks. A run recorded without --stacks has no rows here.
CREATE TABLE IF NOT EXISTS stacks (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    stack_id        INTEGER NOT NULL,  -- the hash of its frames (positive)
    depth           INTEGER NOT NULL,  -- frames in stack_frames
    own_frame       INTEGER,           -- the first frame not in libc or ld.so: the program's own; NULL: none
    PRIMARY KEY (run_id, stack_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stack_frames (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    stack_id        INTEGER NOT NULL,
    frame           INTEGER NOT NULL,  -- 0: the innermost (the call's libc wrapper), then its callers
    module          TEXT,              -- the mapped file (/proc/PID/maps); NULL: no module there
    module_offset   INTEGER NOT NULL,  -- pc - the module's load address (a return address minus 1)
    function        TEXT,              -- from the symbol table, demangled; NULL: no symbol
    function_offset INTEGER,           -- pc - the function's start
    file            TEXT,              -- from DWARF line info (-g); NULL without it
    line            INTEGER,
    PRIMARY KEY (run_id, stack_id, frame)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_stacks (
    run_id          INTEGER NOT NULL REFERENCES runs(id),
    seq             INTEGER NOT NULL,  -- the event (events.seq)
    stack_id        INTEGER NOT NULL,  -- stacks.stack_id
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Views ---------------------------------------------------------------
-- (Dropped and created again by every schema upgrade; the one index here
-- is made if it is missing.)

-- Pipe fds only, as the issue's contract names them.
CREATE VIEW fd_holds AS
SELECT run_id, pid, fd, pipe_id, pipe_end, from_seq, to_seq
FROM holds
WHERE pipe_id IS NOT NULL;

-- Write ends of pipes made in the run that a process got by inheritance and
-- never made a call on (no read, write, dup, close) before it ended: each one
-- can keep the pipe's reader from ever seeing EOF. No knowledge of the pool:
-- for it this is N(N-1)/2 for naive, close-all and reverse-close, 0 for
-- child-close and close-range. A socketpair's end counts too, in a run
-- recorded with --io: it is the write end of the way into its peer, and an
-- end its holder only reads from is touched by the reads, which only --io
-- records. (One range of the holds key per run.)
CREATE VIEW leaked_write_ends AS
SELECT run_id, pipe_id, pid, fd
FROM holds
WHERE pipe_id IS NOT NULL AND from_kind = 'inherit' AND touched_seq IS NULL
  AND (pipe_end = 'write'
       OR (pipe_end = 'socket' AND (SELECT io_events FROM runs WHERE id = holds.run_id)));

-- At each moment a process that used a write end of a pipe gives up its last
-- one (close, close_range, dup2 onto it, exit; not a death by a signal, such
-- as pooltrace's kill) while another process holds the pipe's read end:
-- every other holder of that write end, with `transient` set when the holder
-- uses or closes it itself (it cannot keep the reader from EOF for long) and
-- clear when it is untouched. close_seq is the moment.
-- For a socketpair, pipe_id is the end written into (a socket hold is a
-- write end of its own pipe_id), and its readers are the holders of its
-- peer; only in runs recorded with --io, as for leaked_write_ends. Once an
-- end's sending side is shut down (pipes.shut_seq), its peer's reader has
-- EOF whoever holds it: a give-up after that has no holders.
-- The write ends (and socketpair ends) their holder used (version 11):
-- eof_holders' give-ups are among them, and every close of a write end is
-- one (a close touches what it closes). Few: a 1000-worker run has 2000
-- among its half million write ends, the leaked ones being untouched; read
-- through this, eof_holders no longer reads every hold of the run twice
-- (0.16 s, now 0.09 s, for that run). Made here, with the views, not with
-- the tables: an upgrade adds touched_seq to files of versions 3 and 4
-- after the table part has run.
CREATE INDEX IF NOT EXISTS holds_used_write_ends ON holds (run_id)
    WHERE pipe_end IN ('write', 'socket') AND touched_seq IS NOT NULL;

CREATE VIEW eof_holders AS
-- One subquery of give-ups (c), not a CTE: SQLite 3.40 pushes a view's
-- `WHERE run_id = ?` down into a subquery, never into a materialized CTE, so
-- a question about one run reads only that run's holds. The subquery is
-- materialized once (its GROUP BY, one row per give-up, keeps it apart) and
-- gets an automatic index by pipe; CROSS JOIN then reads the run's holds once,
-- in key order, against it (the other way round reads the run's holds once
-- per give-up: 2 s for 1000 workers). The readers are looked up through the
-- partial indexes of read and socket ends; INDEXED BY, because without
-- statistics SQLite takes the primary key's run_id for as good.
SELECT h.run_id, h.pipe_id, h.pid, h.fd, c.close_seq,
       NOT (h.from_kind = 'inherit' AND h.touched_seq IS NULL) AS transient
FROM holds h
CROSS JOIN (
    SELECT g.run_id, g.pipe_id, g.pid AS giver_pid, g.to_seq AS close_seq
    -- (the used write ends, through their index: the condition on pipe_end and touched_seq is its own)
    FROM holds g INDEXED BY holds_used_write_ends
    WHERE g.pipe_id IS NOT NULL AND g.pipe_end IN ('write', 'socket') AND g.touched_seq IS NOT NULL
      AND g.to_kind IN ('close', 'close_range', 'dup2', 'exit', 'exec')
      -- its last write end of that pipe: none of its other fds holds one on
      -- (through holds_write_ends: the condition on pipe_end is its own, word for word)
      AND NOT EXISTS (SELECT 1 FROM holds o INDEXED BY holds_write_ends
                      WHERE o.run_id = g.run_id AND o.pid = g.pid AND o.pipe_id = g.pipe_id
                      AND o.pipe_end IN ('write', 'socket') AND o.pipe_end = g.pipe_end AND o.fd <> g.fd
                      AND o.from_seq <= g.to_seq AND (o.to_seq IS NULL OR o.to_seq > g.to_seq))
      -- and another process holds the read end (of a socket end: its peer)
      AND (g.pipe_end = 'write' AND EXISTS (
               SELECT 1 FROM holds r INDEXED BY holds_read_ends
               WHERE r.run_id = g.run_id AND r.pipe_id = g.pipe_id AND r.pipe_end = 'read'
                 AND r.pid <> g.pid AND r.from_seq <= g.to_seq AND (r.to_seq IS NULL OR r.to_seq > g.to_seq))
           OR g.pipe_end = 'socket' AND (SELECT io_events FROM runs WHERE id = g.run_id)
              -- not shut down before (shutdown SHUT_WR: its reader has had EOF since)
              AND NOT EXISTS (SELECT 1 FROM pipes s WHERE s.run_id = g.run_id AND s.pipe_id = g.pipe_id
                              AND s.shut_seq <= g.to_seq)
              -- its peer's holders: the peer named by its own row (peer_id is symmetric), so
              -- that the index is searched by pipe, not read whole for each give-up
              AND EXISTS (
               SELECT 1 FROM holds r INDEXED BY holds_socket_ends
               WHERE r.run_id = g.run_id AND r.pipe_end = 'socket'
                 AND r.pipe_id = (SELECT p.peer_id FROM pipes p WHERE p.run_id = g.run_id AND p.pipe_id = g.pipe_id)
                 AND r.pid <> g.pid AND r.from_seq <= g.to_seq AND (r.to_seq IS NULL OR r.to_seq > g.to_seq)))
    GROUP BY g.run_id, g.pid, g.fd, g.from_seq
) c ON c.run_id = h.run_id AND c.pipe_id = h.pipe_id
WHERE h.pipe_end IN ('write', 'socket')
  AND h.pid <> c.giver_pid
  AND h.from_seq < c.close_seq
  AND (h.to_seq IS NULL OR h.to_seq > c.close_seq);

-- The holders above that keep the reader from ever seeing EOF while they
-- live (untouched inherited write ends): each one is a reason a
-- close-then-wait shutdown can hang.
CREATE VIEW eof_blockers AS
SELECT run_id, pipe_id, pid, fd, close_seq
FROM eof_holders
WHERE NOT transient;

-- The wait-for graph at a deadlock, from the kernel's evidence (the `hang`
-- events and hang_holders): pid waits for waits_for. A process blocked
-- reading a pipe waits for every other process holding that pipe's write end,
-- one blocked writing to a full pipe for every other holder of its read end,
-- one blocked on an end of a socketpair for every other holder of its peer
-- (reason 'pipe'; pipe_id is then the peer's); one blocked in poll, select
-- or an epoll wait with no timeout, on pipe and socketpair ends only, for the
-- holders of each fd's other end; a process blocked in wait4/waitid waits for the child it
-- named, or for each of its children not yet reaped when it named none
-- (reason 'child'). A deadlock is a set of these in which every edge stays
-- inside the set. The graph is of processes: threads waiting for threads of
-- their own process (a pthread_join, a read of a pipe whose write end the
-- process holds) add no edge; their hang events say it, the detail of a
-- thread other than the leader starting "tid=N", a join's holding "joins=N".
-- (GROUP BY, not DISTINCT: a blocked process waits on one pipe, so pipe_id
-- follows from the group, but for poll, where it is one of the pipes both
-- share; measured 0.3 s against 1.4 s on 500k edges. The hang events come
-- first, through their index: the other way round, SQLite searches the
-- run's events from each process's fork on, 19 s for 1000 workers.)
CREATE VIEW wait_for AS
SELECT h.run_id, h.seq, h.blocked_pid AS pid, h.holder_pid AS waits_for, 'pipe' AS reason, h.pipe_id
FROM hang_holders h
WHERE h.holder_pid <> h.blocked_pid
GROUP BY h.run_id, h.seq, h.blocked_pid, h.holder_pid
UNION ALL
SELECT e.run_id, e.seq, e.pid, c.pid, 'child', NULL
FROM event_rows e INDEXED BY event_rows_hangs
CROSS JOIN processes c ON c.run_id = e.run_id
 AND (c.pid = e.other_pid OR (e.other_pid <= 0 AND c.ppid = e.pid))
 AND c.fork_seq < e.seq AND (c.reap_seq IS NULL OR c.reap_seq > e.seq)
WHERE e.kind = 'hang' AND e.other_pid IS NOT NULL;

-- One line per run: what the demo prints.
CREATE VIEW run_summary AS
SELECT r.id AS run_id, r.strategy, r.workers, r.tasks, r.outcome,
       (SELECT count(*) FROM leaked_write_ends l WHERE l.run_id = r.id) AS leaked_write_ends,
       (SELECT count(*) FROM eof_blockers b WHERE b.run_id = r.id) AS eof_blockers,
       r.events, r.events_dropped
FROM runs r;

-- Every event of every run, one row each, whichever table holds it. Rows come
-- in no particular order: ORDER BY seq. A condition on run_id, pid, kind,
-- fd or pipe_id reaches the chunks before they are unpacked, so asking for
-- lifecycle kinds costs nothing extra.
CREATE VIEW events (run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id, pipe_end, inode,
                    other_pid, result, arg, signal, is_foreign, detail) AS
SELECT run_id, seq, ts_ns, pid, kind, fd, fd2, pipe_id, pipe_end, inode,
       other_pid, result, arg, signal, is_foreign, detail
FROM event_rows
UNION ALL
SELECT c.run_id, c.first_seq + (e.value ->> 0), c.first_ts_ns + (e.value ->> 1), c.pid, c.kind,
       c.fd, NULL, c.pipe_id, c.pipe_end, c.inode, NULL, c.result, e.value ->> 2, NULL, NULL, NULL
FROM io_chunks c, json_each(c.events) e;

PRAGMA application_id = 1886679651; -- 'ptrc'
PRAGMA user_version = 12;
