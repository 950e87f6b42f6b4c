#!/usr/bin/env bash
# deps.sh: make sure every build and test dependency is installed (Debian packages).
# Usage: scripts/deps.sh [build|test|docs]. Installs what is missing when run as root,
# otherwise prints the exact apt-get command and fails.
set -euo pipefail
want=${1:-build}
pkgs=()
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }
command -v cc >/dev/null 2>&1 || pkgs+=(gcc)
command -v make >/dev/null 2>&1 || pkgs+=(make)
command -v pkg-config >/dev/null 2>&1 || pkgs+=(pkg-config)
have_pc sqlite3 || pkgs+=(libsqlite3-dev)
{ have_pc libgvc && have_pc libcgraph; } || pkgs+=(libgraphviz-dev)
# record --stacks unwinds and names the program's stacks with elfutils' libdwfl.
have_pc libdw || pkgs+=(libdw-dev)
if [ "$want" = test ]; then
  have_pc criterion || pkgs+=(libcriterion-dev)
  command -v strace >/dev/null 2>&1 || pkgs+=(strace)
  command -v valgrind >/dev/null 2>&1 || pkgs+=(valgrind)
  # record is tested on a textbook C++ pool, and on Python's subprocess and multiprocessing.
  command -v c++ >/dev/null 2>&1 || pkgs+=(g++)
  command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
fi
# The report's test opens it in a real browser; make docs takes its screenshot.
if [ "$want" = test ] || [ "$want" = docs ]; then
  command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "pooltrace: missing packages; run: sudo apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi
echo "pooltrace: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${pkgs[@]}" >/dev/null
