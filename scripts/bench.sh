#!/usr/bin/env bash
# bench.sh: tracing overhead (run, and record of a program), ingestion rate and readers at scale, measured side by side in one run.
# Usage: scripts/bench.sh BIN [ROUNDS] [run-1m|stacks|readers]   (run-1m: only the issue's row, run on 4 x 1M
# tasks; stacks: only record --stacks's rows; readers: only the readers of the naive 1000-worker run)
# Traced and untraced runs alternate (AB BA AB ...) so machine noise hits both
# alike; each ratio is the median over ROUNDS pairs. Prints ratios, not
# absolute times, because this machine's absolute times are not stable. The
# last workload row compares the untraced run with itself: the noise floor
# the other ratios should be read against. A second table repeats the rows
# with every process pinned to one CPU (taskset): on two cores the untraced
# pool's time depends on where the scheduler happens to place the ping-pong
# (0.3 s or 0.9 s for the same 64-worker run), and pinning takes that out.
set -euo pipefail
bin=$1
rounds=${2:-15}
tasks=200000
db=$(mktemp -d)/bench.db
root=
trap '[ -n "$root" ] && kill -9 -- "-$root" 2>/dev/null; rm -rf "$(dirname "$db")"' EXIT

wall() { # prints the wall seconds of "$@"
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# quartiles of the per-pair ratios: how much the noise moves the answer
spread() { sort -g | awk '{a[NR]=$1} END {printf "%.2f-%.2f", a[int((NR+3)/4)], a[int((3*NR+3)/4)]}'; }

# compare LABEL BASE... ::: TRACED...: one row, the BASE command against the
# TRACED one, median of $rounds pairs (pinned with $pin when set).
compare() {
  local label=$1 b t base=() traced=() ratios=() bcmd=() tcmd=()
  shift
  while [ "$1" != ":::" ]; do bcmd+=("$1"); shift; done
  shift
  tcmd=("$@")
  for i in $(seq "$rounds"); do
    # Every other pair runs the traced one first: whichever runs second pays
    # for the first one's exit (measured: untraced vs untraced came out 1.10x
    # when always in the same order).
    if ((i % 2)); then
      b=$(wall "${pin[@]}" "${bcmd[@]}")
      t=$(wall "${pin[@]}" "${tcmd[@]}")
    else
      t=$(wall "${pin[@]}" "${tcmd[@]}")
      b=$(wall "${pin[@]}" "${bcmd[@]}")
    fi
    base+=("$b") traced+=("$t") ratios+=("$(echo "$t / $b" | bc -l)")
  done
  b=$(printf '%s\n' "${base[@]}" | median)
  t=$(printf '%s\n' "${traced[@]}" | median)
  printf '%-44s %8.3fs %8.3fs %6.2fx %11s\n' "$label" "$b" "$t" "$(printf '%s\n' "${ratios[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | spread)"
}

# pair LABEL WORKERS TRACED-ARGS...: the untraced pool against "run TRACED-ARGS"
pair() {
  local label=$1 workers=$2
  shift 2
  compare "$label" "$bin" run --no-trace -s reverse-close -w "$workers" -t "$tasks" ::: \
    "$bin" run "$@" -s reverse-close -w "$workers" -t "$tasks"
}

table() {
  printf '%-44s %9s %9s %7s %11s\n' "$1" untraced traced ratio "ratio IQR"
  for workers in 4 64; do
    pair "$workers workers x $tasks tasks --no-io-events" "$workers" --db "$db" --no-io-events
    pair "$workers workers x $tasks tasks (io events on)" "$workers" --db "$db"
  done
  pair "noise: 64 workers untraced vs untraced" 64 --no-trace
}

# The issue's own row: per-task events on 4 workers x 1M tasks, unpinned.
run_1m() {
  printf '%-44s %9s %9s %7s %11s\n' "run, unpinned (median of $rounds pairs)" untraced traced ratio "ratio IQR"
  compare "4 workers x 1000000 tasks (io events on)" "$bin" run --no-trace -s reverse-close -w 4 -t 1000000 ::: \
    "$bin" run --db "$db" -s reverse-close -w 4 -t 1000000
}
# record --stacks: the textbook C++ pool built with -g (4 workers x 200000
# tasks, its child-close fix so that it ends), recorded without and with
# stacks, and strace -k (its libdw unwinder) stopping at the same calls.
# Stacks are taken at pipes, forks, dups, closes and exec, not at the tasks'
# writes, so what --stacks adds is a few dozen unwinds and one libdwfl
# session per process.
cxxpool=$(dirname "$bin")/programs/cxxpool-g
stacks_rows() {
  local prog=("$cxxpool" 4 fixed "$tasks") calls=pipe,pipe2,fork,vfork,clone,clone3,dup,dup2,dup3,close,execve
  printf '%-44s %9s %9s %7s %11s\n' "record --stacks (median of $rounds pairs)" base traced ratio "ratio IQR"
  compare "record -- cxxpool-g (4 x $tasks), untraced" "${prog[@]}" ::: "$bin" record --db "$db" -q -- "${prog[@]}"
  compare "record --stacks against record" "$bin" record --db "$db" -q -- "${prog[@]}" ::: \
    "$bin" record --db "$db" -q --stacks -- "${prog[@]}"
  if command -v strace >/dev/null; then
    compare "record --stacks against strace -f -k" strace -f -k --seccomp-bpf -o /dev/null -e trace="$calls" "${prog[@]}" ::: \
      "$bin" record --db "$db" -q --stacks -- "${prog[@]}"
  fi
  if command -v taskset >/dev/null; then
    pin=(taskset -c 0)
    compare "record --stacks against record, pinned" "$bin" record --db "$db" -q -- "${prog[@]}" ::: \
      "$bin" record --db "$db" -q --stacks -- "${prog[@]}"
    # The worst case: every event a stack (16000 pipes made and closed, 48000 captures).
    local many=("$(dirname "$bin")/programs/manypipes" 16000 close)
    compare "--stacks, 48000 captures (manypipes), pinned" "$bin" record --db "$db" -q -- "${many[@]}" ::: \
      "$bin" record --db "$db" -q --stacks -- "${many[@]}"
    pin=()
  fi
}
# Readers on a large pool: the naive 1000-worker run (half a million holds and
# wait-for edges) drawn four ways, each side by side with reading the run's
# fd_holds rows once in the sqlite3 shell, the least any picture of it costs
# (issue 24's bar: render at most 2x that, timeline and report 3x).
readers() {
  local big what times holds_read
  big=$(dirname "$db")/big.db
  "$bin" run --db "$big" -q -s naive -w 1000 -t 2000 </dev/null
  if command -v sqlite3 >/dev/null; then
    holds_read=(sqlite3 "$big" 'SELECT * FROM fd_holds WHERE run_id = 1')
    printf '%-44s %9s %9s %7s %11s\n' "the naive 1000-worker run ($rounds pairs)" fd_holds reader ratio "ratio IQR"
    compare "render --at hang (at most 2x)" "${holds_read[@]}" ::: "$bin" render --db "$big" --at hang -o "$big.svg"
    compare "render --at end (at most 2x)" "${holds_read[@]}" ::: "$bin" render --db "$big" --at end -o "$big.svg"
    compare "timeline (at most 3x)" "${holds_read[@]}" ::: "$bin" timeline --db "$big" -o "$big.svg"
    compare "report (at most 3x)" "${holds_read[@]}" ::: "$bin" report --db "$big" -o "$big.html"
  else
    echo "the naive 1000-worker run: no sqlite3 shell to read its fd_holds with, readers not timed"
  fi
  # A small run in the same file: a reader of one run reads only that run's rows.
  "$bin" run --db "$big" -q -s reverse-close -w 8 -t 100 </dev/null
  printf '%-44s %9s\n' "beside it in the same file" "median"
  for what in render timeline; do
    times=()
    for _ in $(seq "$rounds"); do
      times+=("$(wall "$bin" "$what" --db "$big" -o "$big.svg")")
    done
    printf '%-44s %8.2fs\n' "$what, an 8-worker run in the same file" "$(printf '%s\n' "${times[@]}" | median)"
  done
}
pin=()
if [ "${3:-}" = run-1m ]; then
  run_1m
  exit
fi
if [ "${3:-}" = stacks ]; then
  stacks_rows
  exit
fi
if [ "${3:-}" = readers ]; then
  readers
  exit
fi
table "workload (median of $rounds AB/BA pairs)"
if command -v taskset >/dev/null; then
  echo
  pin=(taskset -c 0)
  table "pinned to CPU 0 (median of $rounds pairs)"
  pin=()
fi
echo
run_1m
echo
# record: the same pool as a program of anyone's, traced from outside with
# ptrace and a seccomp filter, and strace doing the same (the same calls
# stopped, through its own seccomp filter).
pool=("$bin" run --no-trace -q -s reverse-close -w 4 -t "$tasks")
printf '%-44s %9s %9s %7s %11s\n' "tracing a program (median of $rounds pairs)" untraced traced ratio "ratio IQR"
compare "record -- pool (4 workers x $tasks tasks)" "${pool[@]}" ::: "$bin" record --db "$db" -q -- "${pool[@]}"
if command -v strace >/dev/null; then
  compare "strace -f --seccomp-bpf, the same calls" "${pool[@]}" ::: strace -f --seccomp-bpf -o /dev/null \
    -e trace=pipe,pipe2,close,close_range,dup,dup2,dup3,fcntl,wait4,waitid,execve,execveat "${pool[@]}"
fi
# The issue's bar is "no slower than strace": the two side by side in one
# row (strace as the baseline), pinned to one CPU so that the scheduler's
# placement of the pool does not decide it.
if command -v strace >/dev/null && command -v taskset >/dev/null; then
  pin=(taskset -c 0)
  compare "record against strace, both pinned" strace -f --seccomp-bpf -o /dev/null \
    -e trace=pipe,pipe2,close,close_range,dup,dup2,dup3,fcntl,wait4,waitid,execve,execveat "${pool[@]}" ::: \
    "$bin" record --db "$db" -q -- "${pool[@]}"
  pin=()
fi
echo
stacks_rows
echo
# --io stops at every read and write: a smaller workload, the same comparison.
iotasks=$((tasks / 10))
iopool=("$bin" run --no-trace -q -s reverse-close -w 4 -t "$iotasks")
compare "record --io -- pool (4 x $iotasks tasks)" "${iopool[@]}" ::: "$bin" record --db "$db" -q --io -- "${iopool[@]}"
if command -v strace >/dev/null; then
  compare "strace -f --seccomp-bpf, the same + read/write" "${iopool[@]}" ::: strace -f --seccomp-bpf -o /dev/null \
    -e trace=pipe,pipe2,close,close_range,dup,dup2,dup3,fcntl,wait4,waitid,execve,execveat,read,write,readv,writev \
    "${iopool[@]}"
fi
echo
rates=()
for _ in $(seq "$rounds"); do
  rates+=("$("$bin" run --db "$db" -s reverse-close -w 4 -t "$tasks" --stats 2>&1 >/dev/null |
    sed -n 's/.*: \([0-9]*\) events\/s/\1/p')")
done
printf 'ingestion (4 workers x %d tasks, median of %d): %s events/s\n' "$tasks" "$rounds" \
  "$(printf '%s\n' "${rates[@]}" | median)"
echo
readers
big=$(dirname "$db")/big.db
printf '%-44s %9s\n' "export of the naive 1000-worker run" "median"
for what in "export --format perfetto --run 1 -o $big.json"; do
  times=()
  for _ in $(seq "$rounds"); do
    # shellcheck disable=SC2086 # $what is a list of words
    times+=("$(wall "$bin" ${what%% *} --db "$big" ${what#* })")
  done
  printf '%-44s %8.2fs\n' "${what%% -o*}" "$(printf '%s\n' "${times[@]}" | median)"
done
# What export is measured against: the cheapest read of the same holds.
if command -v sqlite3 >/dev/null; then
  times=()
  for _ in $(seq "$rounds"); do
    times+=("$(wall sqlite3 "$big" 'SELECT * FROM fd_holds WHERE run_id = 1')")
  done
  printf '%-44s %8.2fs\n' "sqlite3 'SELECT * FROM fd_holds' (for export)" "$(printf '%s\n' "${times[@]}" | median)"
fi
rm -f "$big.json"
# snapshot of a tree someone else started and that hung: the textbook pool of
# 1000 workers, untraced (half a million fds), against `ls -l` of the same
# fd directories, the cheapest look at them. Three pairs: each takes seconds.
echo
hung_pool=$(dirname "$db")/leakypool
if cc -O2 -o "$hung_pool" tests/programs/leakypool.c 2>/dev/null; then
  setsid bash -c "ulimit -n 4096; exec '$hung_pool' 1000 >/dev/null 2>&1" &
  root=$!
  # hung: 1001 processes, none running
  for _ in $(seq 100); do
    [ "$(ps -o stat= -g "$root" 2>/dev/null | grep -c S)" -ge 1001 ] && break
    sleep 0.2
  done
  fd_dirs=$(pgrep -g "$root" | sed 's,.*,/proc/&/fd/,')
  saved_rounds=$rounds
  rounds=3
  printf '%-44s %9s %9s %7s %11s\n' "snapshot of a hung 1000-worker pool" "ls -l" snapshot ratio "ratio IQR"
  # shellcheck disable=SC2086 # $fd_dirs is a list of words
  compare "snapshot PID against ls -l /proc/PID/fd/" ls -l $fd_dirs ::: \
    bash -c "'$bin' snapshot -q --db '$db' $root || [ \$? = 3 ]"
  rounds=$saved_rounds
  kill -9 -- "-$root" 2>/dev/null || true
fi

# record -p: attached to a running program, which stops at every system call
# (no seccomp filter can be added to it), against strace -f -p on the same
# program, and against the program alone. The work is a shell loop of 300
# pipes and forks, started stopped; the tracer attaches, then it is let go,
# and the time is until it ends.
echo
pin=()
attach_work='i=0; while [ $i -lt 300 ]; do echo x | cat >/dev/null; i=$((i+1)); done'
attached() { # attached [TOOL ARGS...]: the work, with TOOL attached to it (the pid goes last)
  local p tr=
  sh -c 'kill -STOP $$; exec sh -c "$0"' "$attach_work" &
  p=$!
  until grep -q '^State:.*T' /proc/$p/status 2>/dev/null; do sleep 0.005; done
  if [ $# -gt 0 ]; then
    "$@" "$p" &
    tr=$!
    until grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/$p/status 2>/dev/null; do sleep 0.005; done
  fi
  kill -CONT "$p"
  wait "$p" 2>/dev/null || true
  [ -z "$tr" ] || wait "$tr" || true
}
printf '%-44s %9s %9s %7s %11s\n' "attached to a running shell loop" alone traced ratio "ratio IQR"
compare "record -p PID" attached ::: attached "$bin" record -q --db "$db" -p
compare "strace -f -p PID" attached ::: attached strace -f -qq -o /dev/null -p
compare "record -p PID against strace -f -p PID" attached strace -f -qq -o /dev/null -p ::: \
  attached "$bin" record -q --db "$db" -p
compare "record -- (seccomp), same loop" sh -c "$attach_work" ::: "$bin" record -q --db "$db" -- sh -c "$attach_work"
