-- blocked.sql: who was found blocked on a pipe, in what, and how full the
-- pipe was (scenarios empty-read and full-pipe; also any deadlock). A reader
-- blocks on an empty pipe (0 bytes queued) while a writer lives; a writer
-- blocks on a full one (queued = capacity) while a reader lives. `blocked`
-- rows are not deadlocks: the process was woken later; `hang` rows are.
SELECT e.run_id, coalesce(r.strategy, r.command) AS run, e.kind, e.pid,
       coalesce('worker ' || p.worker_index, p.program, p.role) AS process,
       CASE e.pipe_end WHEN 'read' THEN 'read' ELSE 'write' END || '(fd ' || e.fd || ')' AS blocked_in,
       e.pipe_id, e.result AS bytes_queued, e.arg AS capacity,
       substr(e.detail, 1, instr(e.detail || ' ', ' syscall') - 1) AS state_wchan
FROM events e
JOIN runs r ON r.id = e.run_id
JOIN processes p ON p.run_id = e.run_id AND p.pid = e.pid
WHERE e.kind IN ('blocked', 'hang') AND e.pipe_end IS NOT NULL
ORDER BY e.run_id, e.seq;
