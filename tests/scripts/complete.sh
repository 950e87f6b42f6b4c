#!/usr/bin/env bash
# complete.sh: what bash completion offers for a pooltrace command line.
# Usage: complete.sh COMPLETION_FILE WORD... (as bash splits them: --at=h is
# three words, --at = h; the last word is the one being
# completed, '' for an empty one). Loads the file as bash-completion would,
# calls the function it registered for `pooltrace`, and prints each
# completion on a line of its own.
set -u
source "$1" || exit 1
shift
spec=$(complete -p pooltrace 2>/dev/null) || { echo "complete.sh: nothing is registered for pooltrace" >&2; exit 1; }
fn=$(sed -n 's/.*-F \([^ ]*\) .*/\1/p' <<<"$spec")
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" pooltrace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
