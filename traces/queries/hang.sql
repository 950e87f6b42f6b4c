-- hang.sql: the deadlock evidence pooltrace gathered from the kernel: who was
-- blocked in which system call (state, wchan, syscall, fd), and which
-- processes held the write end of the pipe it was blocked on.
SELECT e.run_id, e.seq, e.pid AS blocked_pid, e.detail AS kernel_evidence,
       p.channel AS pipe_of_worker,
       group_concat(h.holder_pid || ':fd' || h.holder_fd, ' ') AS write_end_holders
FROM events e
LEFT JOIN pipes p ON p.run_id = e.run_id AND p.pipe_id = e.pipe_id
LEFT JOIN hang_holders h ON h.run_id = e.run_id AND h.seq = e.seq
WHERE e.kind = 'hang'
GROUP BY e.run_id, e.seq
ORDER BY e.run_id, e.seq;
