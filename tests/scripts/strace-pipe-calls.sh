#!/bin/sh
# strace-pipe-calls.sh PREFIX: the pipe calls that `strace -ff -yy -o PREFIX`
# saw, one line each, in a form that does not depend on pids or inodes:
#   KIND PROCESS FD PIPE RESULT
# PROCESS is 0 for the process that forked the others, else 1, 2, ... in the
# order it forked them; PIPE is 1, 2, ... in the order that process created
# its pipes (a socketpair's two ends are two of them, in its order, as in
# pooltrace's pipes table). KIND is close, dup2 (FD: the new fd), read,
# read_zero or write.
# Only calls on pipes that succeeded are listed. One file per process (-ff),
# so no line is split by another process's.
set -eu
prefix=$1
parent=$(grep -l -E '^(clone|clone3|fork|vfork)\(.*\) = [0-9]+$' "$prefix".*)
[ "$(printf '%s\n' "$parent" | wc -l)" -eq 1 ] || { echo "strace-pipe-calls: not one forking process: $parent" >&2; exit 1; }
awk -v parent="$parent" '
	# Fields of "call(fd<pipe:[inode]>, ...) = result": $1 call, $2 fd, $3 "pipe:", $4 inode.
	function fields(line) { gsub(/[(<\[\]>,]+/, " ", line); return split(line, f, / +/) }
	FNR == 1 { pass = (FILENAME == parent && !done++) ? 1 : 2; pid = FILENAME; sub(/.*\./, "", pid) }
	# A socketpair end, 3<UNIX-STREAM:[inode->peer]>, reads as a pipe: 3<pipe:[inode]>.
	{ orig = $0; gsub(/<UNIX-STREAM:\[/, "<pipe:["); gsub(/->[0-9]+\]>/, "]>") }
	pass == 1 && /^pipe2?\(/ && / = 0$/ { fields($0); pipes[f[4]] = ++npipes; next }
	pass == 1 && /^socketpair\(/ && / = 0$/ { fields($0); pipes[f[7]] = ++npipes; pipes[f[10]] = ++npipes; next }
	pass == 1 && /^(clone|clone3|fork|vfork)\(/ && $NF ~ /^[0-9]+$/ { procs[$NF] = ++nprocs; next }
	pass == 1 { next }
	# A socket() socket is no pipe (glibc makes one for nscd when bash looks
	# up the user, e.g. with SHELL unset): only socketpairs the parent made count.
	{ if (match(orig, /UNIX-STREAM:\[[0-9]+/)) { ino = substr(orig, RSTART + 13, RLENGTH - 13); if (!(ino in pipes)) next } }
	{ who = FILENAME == parent ? 0 : procs[pid]; res = $NF; sub(/<.*/, "", res) }
	/^close\([0-9]+<pipe:/ && res == 0 { fields($0); print "close", who, f[2], pipes[f[4]], res }
	/^dup2\([0-9]+<pipe:/ && res ~ /^[0-9]+$/ { fields($0); print "dup2", who, res, pipes[f[4]], res }
	/^read\([0-9]+<pipe:/ && res ~ /^[0-9]+$/ { fields($0); print (res == 0 ? "read_zero" : "read"), who, f[2], pipes[f[4]], res }
	/^write\([0-9]+<pipe:/ && res ~ /^[0-9]+$/ { fields($0); print "write", who, f[2], pipes[f[4]], res }
' "$parent" "$prefix".*
