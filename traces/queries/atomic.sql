-- atomic.sql: several writers on one pipe (scenarios atomic and atomic-big).
-- Per run: the writes and their sizes, the reader's reads, and the reader's
-- own check of the records it reassembled from the stream: intact ones, and
-- torn ones (bytes of two writers or two records mixed). At most PIPE_BUF
-- (4096) bytes a write: never torn.
SELECT r.id AS run_id, r.strategy AS run,
       (SELECT count(*) FROM events w WHERE w.run_id = r.id AND w.kind = 'write') AS writes,
       (SELECT max(w.result) FROM events w WHERE w.run_id = r.id AND w.kind = 'write') AS write_size,
       (SELECT count(*) FROM events x WHERE x.run_id = r.id AND x.kind = 'read') AS reads,
       c.arg AS records_intact, c.result AS records_torn
FROM runs r
JOIN events c ON c.run_id = r.id AND c.kind = 'check'
ORDER BY r.id;
