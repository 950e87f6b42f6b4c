#!/bin/sh
# strace-thread-calls.sh PREFIX: the pipe calls of one process with threads
# that `strace -ff -ttt -yy -o PREFIX` saw (one file per thread), one line
# each, in a form that depends on neither tids nor inodes:
#   pipe FD FD2 PIPE | close FD PIPE RESULT | read FD PIPE RESULT |
#   read_zero FD PIPE 0 | write FD PIPE RESULT | cloexec FD PIPE | exit STATUS
# PIPE is 1, 2, ... in the order the pipes were made (by the timestamps, the
# threads' files being merged). At each execve that succeeded, every pipe fd
# still open that was made with O_CLOEXEC is a cloexec line: the kernel
# closed it there. exit is the process's status, once: its last thread's
# "+++ exited with N +++". Only calls on pipes that succeeded are listed.
set -eu
cat "$1".* | sort -s -n -k1,1 | awk '
	function fields(line) { gsub(/[()<\[\]>,]+/, " ", line); return split(line, f, / +/) }
	{ sub(/^[0-9.]+ /, ""); res = $NF }
	/^pipe2?\(\[[0-9]+<pipe:/ && / = 0$/ {
		fields($0); pipes[f[4]] = ++npipes; print "pipe", f[2], f[5], npipes
		if ($0 ~ /O_CLOEXEC/) { cloexec[f[2]] = npipes; cloexec[f[5]] = npipes }
		next
	}
	/^close\([0-9]+<pipe:/ && res == 0 { fields($0); print "close", f[2], pipes[f[4]], res; delete cloexec[f[2]]; next }
	/^read\([0-9]+<pipe:/ && res ~ /^[0-9]+$/ { fields($0); print (res == 0 ? "read_zero" : "read"), f[2], pipes[f[4]], res; next }
	/^write\([0-9]+<pipe:/ && res ~ /^[0-9]+$/ { fields($0); print "write", f[2], pipes[f[4]], res; next }
	/execve/ && / = 0$/ { for (fd in cloexec) print "cloexec", fd, cloexec[fd]; split("", cloexec); next }
	/^\+\+\+ exited with [0-9]+ \+\+\+$/ { status = $4 }
	END { if (status != "") print "exit", status }
'
