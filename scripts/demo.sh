#!/usr/bin/env bash
# demo.sh: runs every shutdown strategy into a fresh demo database and prints the summary table.
# Usage: scripts/demo.sh BIN [WORKERS]
set -euo pipefail
bin=$1
workers=${2:-4}
db=build/demo.db
rm -f "$db"
for s in naive close-all reverse-close child-close close-range; do
  "$bin" run --db "$db" --strategy "$s" --workers "$workers" --tasks 16
done
echo
"$bin" query --db "$db" -f traces/queries/summary.sql
# The README's pictures, from fresh runs, into build/docs (make docs updates docs/).
echo
scripts/docs.sh "$bin" build/docs >/dev/null
echo "pictures in build/docs/: naive-hang.png (the deadlock), compare-shutdown.png (the bug and two fixes),"
echo "  naive-timeline.png, naive-report.html (step through it), mypool-hang.png (a C program under record)"
echo "trace database: $db  (try: $bin query --db $db -f traces/queries/leaks.sql)"
