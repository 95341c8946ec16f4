#!/bin/bash
# Measures each fuzz target's executions per second: runs the built binary for SECONDS
# (default 25) from the committed seeds into a scratch corpus, one target at a time, and
# prints target, execs/s, coverage and features. Run it on an idle machine: the figure is
# one core's.
#
#   cd fuzz && ./rates.sh [SECONDS] [TARGET ...]
#
# Build first (fuzz/README.md): `cargo fuzz build -s none` for every target, and the
# multi-party ones (relay, client, scheduler, cluster, node) with -O, overflow checks and
# --no-trace-compares into target/fast, which this script prefers when it is there.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-25}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
triple=x86_64-unknown-linux-gnu
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '%-20s %10s %8s %8s  %s\n' target execs/s cov ft build
for t in "${targets[@]}"; do
  bin=target/$triple/release/$t
  build=default
  if [ -x "target/fast/$triple/release/$t" ]; then
    bin=target/fast/$triple/release/$t
    build=fast
  fi
  if [ ! -x "$bin" ]; then
    echo "$t: not built ($bin)" >&2
    exit 1
  fi
  mkdir -p "$scratch/$t"
  out=$("$bin" "$scratch/$t" "corpus/$t" -max_total_time="$seconds" -print_final_stats=1 2>&1)
  rate=$(echo "$out" | awk '/stat::average_exec_per_sec/ {print $2}')
  cov=$(echo "$out" | grep -o 'cov: [0-9]*' | tail -1 | awk '{print $2}')
  ft=$(echo "$out" | grep -o 'ft: [0-9]*' | tail -1 | awk '{print $2}')
  printf '%-20s %10s %8s %8s  %s\n' "$t" "$rate" "$cov" "$ft" "$build"
done
