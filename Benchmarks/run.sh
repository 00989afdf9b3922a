#!/usr/bin/env bash
# Builds SlotBenchmarks in release mode, runs it, and compares the hour-expression figures with opening-hours-py
# timed in the same run. Figures, not verdicts: nothing here fails on a slow machine.
#
#   Benchmarks/run.sh                      # scratch path .build-release
#   SCRATCH_PATH=.build-mine Benchmarks/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${SCRATCH_PATH:-.build-release}"

swift build -c release --scratch-path "$scratch" --product SlotBenchmarks >&2
binary="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/SlotBenchmarks"

output="$("$binary")"
printf '%s\n' "$output" | grep -v $'^HOURS\t' || true

if python3 -c 'import opening_hours' 2>/dev/null; then
    printf '%s\n' "$output" | python3 Benchmarks/hours_reference.py
else
    echo "opening-hours-py is not installed (pip install opening-hours-py): raw figures only" >&2
    printf '%s\n' "$output" | grep $'^HOURS\t' || true
fi
