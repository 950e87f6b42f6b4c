-- leaks.sql: which worker holds which other channel's write end, and by which
-- fd, at the moment it starts reading its own task pipe. Every row is a
-- reason some other worker cannot see EOF. Run per database; filter run_id.
SELECT l.run_id, w.worker_index AS holder_worker, l.pid AS holder_pid, l.fd,
       p.channel AS pipe_of_worker, p.inode
FROM leaked_write_ends l
JOIN processes w ON w.run_id = l.run_id AND w.pid = l.pid
JOIN pipes p ON p.run_id = l.run_id AND p.pipe_id = l.pipe_id
ORDER BY l.run_id, holder_worker, l.fd;
