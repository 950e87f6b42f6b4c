#!/usr/bin/env bash
# docs.sh: regenerates the images the README shows, into docs/, from fresh runs.
# Usage: scripts/docs.sh BIN [OUTDIR]   (OUTDIR defaults to docs/, what the README shows)
set -euo pipefail
bin=$1
out=${2:-docs}
db=build/docs.db
mkdir -p build "$out"
rm -f "$db"
# clean CMD...: runs CMD with stdin, stdout and stderr on /dev/null and every
# other fd of this shell closed (make's jobserver, a terminal, a log), so the
# pictures show the same fds on every machine.
clean() {
  (
    for f in /proc/$BASHPID/fd/*; do
      n=${f##*/}
      [ "$n" -gt 2 ] && eval "exec $n>&-"
    done
    exec "$@" </dev/null >/dev/null 2>/dev/null
  )
}
# The pool works a little before it shuts down (as a real one would), so every
# worker has finished its own setup by the `shutdown` moment.
for s in naive reverse-close child-close; do
  clean "$bin" run --db "$db" -s "$s" -w 4 -t 8 --shutdown-delay-ms 100 -q ||
    { echo "docs: the $s run failed" >&2; exit 1; }
done
"$bin" render   --db "$db" --run 1 --at shutdown -o "$out"/naive-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 2 --at shutdown -o "$out"/reverse-close-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 3 --at shutdown -o "$out"/child-close-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 1 --at hang     -o "$out"/naive-hang.svg </dev/null
"$bin" compare  --db "$db" --runs 1,2,3          -o "$out"/compare-shutdown.svg </dev/null
"$bin" timeline --db "$db" --run 1               -o "$out"/naive-timeline.svg </dev/null
# PNGs of the slide pictures, for slides and for looking at.
"$bin" render   --db "$db" --run 1 --at shutdown -o "$out"/naive-shutdown.png </dev/null
"$bin" render   --db "$db" --run 1 --at hang     -o "$out"/naive-hang.png </dev/null
"$bin" compare  --db "$db" --runs 1,2,3          -o "$out"/compare-shutdown.png </dev/null
"$bin" timeline --db "$db" --run 1               -o "$out"/naive-timeline.png </dev/null
# A large pool's hang: its 44,850 leaks, too many to draw as edges, in the leak matrix.
ldb=build/docs-large.db
rm -f "$ldb"
clean "$bin" run --db "$ldb" -s naive -w 300 -t 600 --hang-ms 200 -q || { echo "docs: the 300-worker run failed" >&2; exit 1; }
"$bin" render   --db "$ldb" --at hang            -o "$out"/naive-300-hang.png </dev/null
# The pipe scenarios' pictures, for the README's lab sheets.
sdb=build/docs-scenarios.db
rm -f "$sdb"
for s in empty-read full-pipe full-pipe-stuck sigpipe; do
  clean "$bin" run --db "$sdb" -q --scenario "$s" || { echo "docs: scenario $s failed" >&2; exit 1; }
done
"$bin" render   --db "$sdb" --run 1 --at blocked -o "$out"/scenario-empty-read.png </dev/null
"$bin" render   --db "$sdb" --run 2 --at blocked -o "$out"/scenario-full-pipe.png </dev/null
"$bin" render   --db "$sdb" --run 3 --at hang    -o "$out"/scenario-full-pipe-stuck.png </dev/null
"$bin" timeline --db "$sdb" --run 4              -o "$out"/scenario-sigpipe.png </dev/null
# A program of anyone's, recorded: the textbook leaky pool in C, as the
# README's "record" section runs it (built as ./mypool in a scratch folder, so
# the caption reads as it would for a user).
rdb=$(realpath build)/docs-record.db
rm -f "$rdb"
mydir=$(mktemp -d /tmp/pooltrace-docs-mypool-XXXXXX)
cp build/programs/leakypool "$mydir"/mypool
binpath=$(realpath "$bin") # also when BIN is given relative to here
(cd "$mydir" && clean "$binpath" record --db "$rdb" -q -- ./mypool 4) && status=0 || status=$?
rm -rf "$mydir"
[ "$status" = 137 ] || { echo "docs: ./mypool 4 ended with $status, not as a deadlock (137)" >&2; exit 1; }
"$bin" render   --db "$rdb" --run 1 --at hang    -o "$out"/mypool-hang.png </dev/null
# The step-through report, and a screenshot of it in Chromium at the moment the
# parent has closed pipe 1's write end and the workers still hold theirs.
"$bin" report   --db "$db" --run 1               -o "$out"/naive-report.html </dev/null
seq=$("$bin" query --db "$db" --csv "SELECT min(h.to_seq) FROM holds h JOIN processes p USING (run_id, pid)
  WHERE h.run_id = 1 AND p.role = 'parent' AND h.pipe_end = 'write' AND h.to_kind = 'close'" | tail -1)
if command -v chromium >/dev/null 2>&1; then
  profile=$(mktemp -d /tmp/pooltrace-docs-chromium-XXXXXX)
  trap 'rm -rf "$profile"' EXIT
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
    --window-size=1280,760 --screenshot="$(realpath "$out")/naive-report.png" "file://$(realpath "$out")/naive-report.html#seq=$seq" \
    >/dev/null 2>&1 || { echo "docs: chromium could not take the report's screenshot" >&2; exit 1; }
elif [ "$out" = docs ]; then
  # make docs installs chromium (scripts/deps.sh docs); make demo does without
  # the screenshot, which only the README needs.
  echo "docs: no chromium here: the report's screenshot was not taken" >&2
fi
echo "docs: wrote $(ls "$out"/*.svg "$out"/*.png "$out"/*.html | wc -l) files to $out/ from $db"
