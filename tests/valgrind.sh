#!/usr/bin/env bash
# valgrind.sh: memcheck over run (a scenario too), record (--stacks and -p too), snapshot, explain, query, render, compare, timeline, report and export on a small trace.
# Usage: tests/valgrind.sh BUILD/pooltrace BUILD/leakprobe. Every process (the
# pool's too: valgrind follows fork) writes its own log; any error, or any
# definite leak that tests/valgrind.supp does not name as Graphviz's own,
# fails the check. Last, the probe proves the suppressions still let a
# forgotten render buffer through.
set -euo pipefail
bin=$(realpath "$1") probe=$(realpath "$2")
supp=$(realpath "$(dirname "$0")/valgrind.supp")
dir=$(mktemp -d /tmp/pooltrace-valgrind-XXXXXX)
# A live tree for snapshot to read: cat waits for sleep, which can move (no deadlock).
sleep 3600 </dev/null | cat >/dev/null &
live=$!
trap 'kill "$live" 2>/dev/null; pkill -P $$ -x sleep 2>/dev/null; rm -rf "$dir"' EXIT
sleep 0.2
cd "$dir"
vg() { valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--suppressions="$supp" --log-file="$dir/vg.%p.log" --num-callers=30 "$@"; }
steps=(
	"run --db v.db -q -s naive -w 3 -t 6"
	"run --db v.db -q -s child-close -w 3 -t 6"
	"query --db v.db -f $(dirname "$supp")/../traces/queries/summary.sql"
	"render --db v.db --run 1 --at hang -o hang.svg"
	"render --db v.db --run 2 -o shutdown.png"
	"compare --db v.db --runs 1,2 -o compare.pdf"
	"timeline --db v.db --run 1 -o timeline.svg"
	"report --db v.db --run 1 -o report.html"
	"export --db v.db --run 1 -o perfetto.json"
	"query --db v.db --json 'SELECT * FROM events WHERE run_id = 1'"
	"record --db v.db -q -- sh -c 'printf x | cat >/dev/null'"
	"render --db v.db --run 3 --at end -o record.svg"
	"run --db v.db -q --scenario empty-read --pause-ms 2000"
	"render --db v.db --run 4 --at blocked -o blocked.svg"
	"snapshot --db v.db -q $live"
	"render --db v.db --run 5 -o snapshot.svg"
	"explain --db v.db --run 1"
	"explain --db v.db --run 3 --json"
	"run --db v.db -q -s reverse-close -w 3 -t 6 --fail-on deadlock"
	"explain --db v.db --run 6"
	"run --db v.db -w 2 --json"
	"export --db v.db --run 3 -o -"
	"record --db v.db -q -p $live --for 1"
	"explain --db v.db --run 8"
	"record --db v.db -q --stacks -- sh -c 'printf x | cat >/dev/null'"
	"explain --db v.db --run 9"
	"report --db v.db --run 9 -o stacks.html"
)
for step in "${steps[@]}"; do
	if ! eval vg "\"$bin\"" "$step" >/dev/null; then
		echo "valgrind: pooltrace $step failed" >&2
		exit 1
	fi
done
bad=$(grep -lE "ERROR SUMMARY: [1-9]" vg.*.log || true)
if [ -n "$bad" ]; then
	cat $bad >&2
	echo "valgrind: errors or definite leaks in $(echo $bad | wc -w) processes" >&2
	exit 1
fi
logs=$(ls vg.*.log | wc -l)
# The check can fail: a render buffer the probe forgets must be reported.
rm -f vg.*.log
vg "$probe" leak
if ! grep -q "definitely lost" vg.*.log; then
	echo "valgrind: the suppressions hide a forgotten gvRenderData buffer" >&2
	exit 1
fi
echo "valgrind: ${#steps[@]} commands, $logs processes: no errors, no definite leaks outside Graphviz"
