#!/usr/bin/env bash
# docs.sh: regenerates the images the README shows, into docs/, from fresh runs.
# Usage: scripts/docs.sh BIN
set -euo pipefail
bin=$1
db=build/docs.db
mkdir -p build docs
rm -f "$db"
# The pool works a little before it shuts down (as a real one would), so every
# worker has finished its own setup by the `shutdown` moment.
# Plain stdio (/dev/null) keeps the pictures free of this shell's own fds.
for s in naive reverse-close child-close; do
  "$bin" run --db "$db" -s "$s" -w 4 -t 8 --shutdown-delay-ms 100 -q </dev/null >/dev/null 2>build/docs-run.log ||
    { cat build/docs-run.log >&2; exit 1; }
done
"$bin" render   --db "$db" --run 1 --at shutdown -o docs/naive-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 2 --at shutdown -o docs/reverse-close-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 3 --at shutdown -o docs/child-close-shutdown.svg </dev/null
"$bin" render   --db "$db" --run 1 --at hang     -o docs/naive-hang.svg </dev/null
"$bin" compare  --db "$db" --runs 1,2,3          -o docs/compare-shutdown.svg </dev/null
"$bin" timeline --db "$db" --run 1               -o docs/naive-timeline.svg </dev/null
echo "docs: wrote $(ls docs/*.svg | wc -l) images to docs/ from $db"
