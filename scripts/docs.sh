#!/usr/bin/env bash
# docs.sh: regenerates the images the README shows, into docs/, from fresh runs.
# Usage: scripts/docs.sh BIN [OUTDIR]   (OUTDIR defaults to docs/, what the README shows)
set -euo pipefail
bin=$1
out=${2:-docs}
db=build/docs.db
mkdir -p build "$out"
rm -f "$db"
# The pool works a little before it shuts down (as a real one would), so every
# worker has finished its own setup by the `shutdown` moment.
# Plain stdio (/dev/null) keeps the pictures free of this shell's own fds.
for s in naive reverse-close child-close; do
  "$bin" run --db "$db" -s "$s" -w 4 -t 8 --shutdown-delay-ms 100 -q </dev/null >/dev/null 2>build/docs-run.log ||
    { cat build/docs-run.log >&2; exit 1; }
done
"$bin" render   --db "$db" --run 1 --at shutdown -o "$out"/naive-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 2 --at shutdown -o "$out"/reverse-close-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 3 --at shutdown -o "$out"/child-close-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 1 --at hang     -o "$out"/naive-hang.svg </dev/null
"$bin" compare  --db "$db" --runs 1,2,3          -o "$out"/compare-shutdown.svg </dev/null
"$bin" timeline --db "$db" --run 1               -o "$out"/naive-timeline.svg </dev/null
echo "docs: wrote $(ls "$out"/*.svg | wc -l) images to $out/ from $db"
