-- hang.sql: the deadlock evidence pooltrace gathered from the kernel: who was
-- blocked in which system call (state, wchan, syscall, fd), and which
-- processes held the other end of the pipe it was blocked on (the write end
-- for a reader, the read end for a writer to a full pipe).
SELECT e.run_id, e.seq, e.pid AS blocked_pid, e.detail AS kernel_evidence,
       p.channel AS pipe_of_worker,
       e.pipe_end AS waits_on, group_concat(h.holder_pid || ':fd' || h.holder_fd, ' ') AS other_end_holders
FROM events e
LEFT JOIN pipes p ON p.run_id = e.run_id AND p.pipe_id = e.pipe_id
LEFT JOIN hang_holders h ON h.run_id = e.run_id AND h.seq = e.seq
WHERE e.kind = 'hang'
GROUP BY e.run_id, e.seq
ORDER BY e.run_id, e.seq;
