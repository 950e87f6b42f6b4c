#!/bin/sh
# check-layers.sh: every project #include in src/ and viz/ obeys the layer
# table of docs/design.md ("| `FOLDER/` | ... | may include |"): a file in a
# folder includes only its own folder's headers and those the table names.
# The table is read from the doc, so the doc is the rule.
set -eu
cd "$(dirname "$0")/.."
awk -F'|' '
	FNR == NR {
		# the table rows: | `src/core/` | what | base store |
		if ($2 ~ /^ `(src\/[a-z]+|viz)\/` $/) {
			folder = $2; gsub(/[ `]|\/$/, "", folder); sub(/^src\//, "", folder); sub(/\/$/, "", folder)
			allowed[folder] = folder " " $4
			nfolders++
		}
		next
	}
	FNR == 1 {
		f = FILENAME; layer = f; sub(/^src\//, "", layer); sub(/\/[^\/]*$/, "", layer)
		if (!(layer in allowed)) { printf "%s: folder %s has no row in docs/design.md#layout\n", f, layer; bad = 1 }
	}
	/^#include "/ {
		inc = $0; sub(/^#include "/, "", inc); sub(/".*/, "", inc)
		if (inc !~ /\//) {
			if (inc ~ /\.inc$/) next  # generated into build/: the schema, the report script
			printf "%s:%d: #include \"%s\" does not name its folder\n", f, FNR, inc; bad = 1; next
		}
		dep = inc; sub(/\/.*/, "", dep)
		if ((" " allowed[layer] " ") !~ (" " dep " ")) {
			printf "%s:%d: %s/ may not include %s (docs/design.md#layout)\n", f, FNR, layer, inc; bad = 1
		}
	}
	END {
		if (nfolders < 10) { printf "docs/design.md: the layer table has %d rows, expected 10\n", nfolders; exit 1 }
		exit bad
	}
' docs/design.md src/*/*.[ch] viz/*.[ch]
echo "layers: every include in src/ and viz/ follows docs/design.md#layout"
