-- sigpipe.sql: writes to a pipe with no reader left (scenarios sigpipe and
-- sigpipe-ignored). With SIGPIPE's default action the writer is killed
-- (term_signal 13) and its write never returns; with SIGPIPE ignored the
-- write returns -EPIPE (-32) and the writer goes on.
SELECT p.run_id, r.strategy AS run, p.pid, coalesce('worker ' || p.worker_index, p.role) AS process,
       p.term_signal,
       (SELECT count(*) FROM events e WHERE e.run_id = p.run_id AND e.pid = p.pid AND e.kind = 'write'
         AND e.result = -32) AS writes_failed_epipe
FROM processes p
JOIN runs r ON r.id = p.run_id
WHERE p.term_signal = 13
   OR EXISTS (SELECT 1 FROM events e WHERE e.run_id = p.run_id AND e.pid = p.pid AND e.kind = 'write'
              AND e.result = -32)
ORDER BY p.run_id, p.pid;
