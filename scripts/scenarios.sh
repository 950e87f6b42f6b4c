#!/usr/bin/env bash
# scenarios.sh: runs every pipe scenario into a fresh database and prints one line each: the lesson, then what was recorded.
# Usage: scripts/scenarios.sh BIN
set -euo pipefail
bin=$1
db=build/scenarios.db
mkdir -p build
rm -f "$db" "$db"-wal "$db"-shm
# One value: the query's single column is named v, so its CSV header is one line; no quotes.
q() { "$bin" query --db "$db" --csv "SELECT ($1) AS v" | tail -n +2 | tr -d '"'; }
for s in empty-read full-pipe full-pipe-stuck eof sigpipe sigpipe-ignored coalesce coalesce-fixed atomic atomic-big; do
  "$bin" run --db "$db" -q --scenario "$s" </dev/null
  run=$(q "SELECT max(id) FROM runs")
  case $s in
    empty-read|full-pipe|full-pipe-stuck)
      fact=$(q "SELECT group_concat(kind || ' ' || CASE pipe_end WHEN 'read' THEN 'reader' ELSE 'writer' END
                || ' (' || result || ' of ' || arg || ' bytes queued)', ', ') FROM events
                WHERE run_id = $run AND kind IN ('blocked', 'hang') AND pipe_end IS NOT NULL") ;;
    eof) fact="$(q "SELECT count(*) FROM events WHERE run_id = $run AND kind = 'read_zero'") reads returned 0 (EOF)" ;;
    sigpipe*)
      fact=$(q "SELECT 'parent ' || coalesce('killed by signal ' || term_signal, 'exited ' || exit_code) || ', '
                || (SELECT count(*) FROM events WHERE run_id = $run AND kind = 'write' AND result = -32)
                || ' write(s) failed with EPIPE' FROM processes WHERE run_id = $run AND role = 'parent'") ;;
    coalesce*)
      fact=$(q "SELECT (SELECT count(*) FROM events WHERE run_id = $run AND kind = 'write') || ' writes of 4 bytes, '
                || count(*) || ' reads, ' || (SELECT count(*) FROM events WHERE run_id = $run AND kind = 'task')
                || ' codes handled' FROM events WHERE run_id = $run AND kind = 'read'") ;;
    atomic*)
      fact=$(q "SELECT arg || ' records intact, ' || result || ' torn' FROM events WHERE run_id = $run AND kind = 'check'") ;;
  esac
  printf '%-16s %-9s %s\n' "$s" "$(q "SELECT outcome FROM runs WHERE id = $run")" "$fact"
done
echo
echo "trace database: $db  (try: $bin query --db $db -f traces/queries/blocked.sql)"
