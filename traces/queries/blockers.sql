-- blockers.sql: for each close of a write end by the pool parent, who else
-- still holds that write end (so the reader cannot get EOF yet).
SELECT b.run_id, b.close_seq, p.channel AS pipe_of_worker, w.role, w.worker_index,
       b.pid, b.fd
FROM eof_blockers b
JOIN pipes p ON p.run_id = b.run_id AND p.pipe_id = b.pipe_id
JOIN processes w ON w.run_id = b.run_id AND w.pid = b.pid
ORDER BY b.run_id, b.close_seq, w.worker_index;
