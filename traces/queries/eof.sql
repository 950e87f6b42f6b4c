-- eof.sql: every read that returned 0 (EOF: every write end of that pipe was
-- closed), and how many reads the process made before it (scenario eof).
SELECT e.run_id, r.strategy AS run, e.pid, coalesce('worker ' || p.worker_index, p.role) AS process,
       e.fd, e.pipe_id, e.seq AS eof_seq,
       (SELECT count(*) FROM events x WHERE x.run_id = e.run_id AND x.pid = e.pid AND x.kind = 'read') AS reads_before
FROM events e
JOIN runs r ON r.id = e.run_id
JOIN processes p ON p.run_id = e.run_id AND p.pid = e.pid
WHERE e.kind = 'read_zero'
ORDER BY e.run_id, e.seq;
