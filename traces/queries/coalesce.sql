-- coalesce.sql: a pipe is a byte stream (scenarios coalesce and
-- coalesce-fixed). Per reader: the 4-byte records written to it, its reads
-- and their sizes, the reads that returned more than one record, the tasks
-- it handled, and the records a reader that takes one read for one record
-- would lose (what the reads show: each read of n bytes holds n/4 records).
SELECT r.id AS run_id, r.strategy AS run, p.pid,
       (SELECT count(*) FROM events w WHERE w.run_id = r.id AND w.kind = 'write' AND w.pipe_id = q.pipe_id) AS records_written,
       count(*) AS reads,
       substr(group_concat(e.result, ' '), 1, 30) AS first_read_sizes,
       sum(e.result > 4) AS reads_of_several_records,
       (SELECT count(*) FROM events t WHERE t.run_id = r.id AND t.pid = p.pid AND t.kind = 'task') AS tasks_handled,
       sum(e.result / 4 - 1) AS lost_by_one_read_one_record
FROM runs r
JOIN processes p ON p.run_id = r.id AND p.role = 'worker'
JOIN pipes q ON q.run_id = r.id AND q.channel = p.worker_index
JOIN events e ON e.run_id = r.id AND e.pid = p.pid AND e.kind = 'read'
GROUP BY r.id, p.pid
HAVING sum(e.result > 4) > 0  -- the readers that got more than one record in a read
ORDER BY r.id, p.pid;
