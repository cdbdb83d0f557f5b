#!/usr/bin/env bash
# Runs every native Go fuzz test in the module for a fixed time each.
# Usage: hack/fuzz.sh BUDGET
#
# BUDGET is what -fuzztime takes: a duration (1m) or an exec count (2000x).
# make test passes a count: with a duration, Go 1.26's fuzz coordinator can
# report "context deadline exceeded" at the deadline with no failing input
# when a worker is starved of CPU (golang/go#75804, fixed in Go 1.27), while
# a count has no deadline to race and only runs slower on a loaded machine.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-1m}
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sort | while read -r file; do
	dir=./$(dirname "${file#./}")
	for name in $(grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
		echo "fuzz $dir $name ($fuzztime)"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir" >/tmp/capstan-fuzz.log 2>&1 || { cat /tmp/capstan-fuzz.log; exit 1; }
	done
done
