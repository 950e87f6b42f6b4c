-- fd_table.sql: every process's fd table at shutdown (just before the pool
-- parent's first close of a write end), including fds the pool did not
-- create (is_foreign = 1). Change the moment by editing `moment`.
WITH moment AS (
  SELECT h.run_id, min(h.to_seq) AS seq
  FROM holds h JOIN processes p ON p.run_id = h.run_id AND p.pid = h.pid AND p.role = 'parent'
  WHERE h.pipe_end = 'write' AND h.pipe_id IS NOT NULL AND h.to_kind = 'close'
  GROUP BY h.run_id
)
SELECT h.run_id, pr.role, pr.worker_index, h.pid, h.fd, h.pipe_id, h.pipe_end, h.is_foreign,
       h.detail
FROM holds h
JOIN moment m ON m.run_id = h.run_id
JOIN processes pr ON pr.run_id = h.run_id AND pr.pid = h.pid
WHERE h.from_seq < m.seq AND (h.to_seq IS NULL OR h.to_seq >= m.seq)
ORDER BY h.run_id, pr.worker_index IS NOT NULL, pr.worker_index, h.fd;
