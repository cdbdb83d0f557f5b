#!/usr/bin/env bash
# Runs every native Go fuzz test in the module for a fixed time each.
# Usage: hack/fuzz.sh DURATION
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
