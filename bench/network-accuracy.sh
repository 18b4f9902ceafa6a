#!/usr/bin/env bash
# How closely network rules (issue 18) keep their numbers, measured with curl against the
# `wharf serve` of this tree (tests assert behaviour only; timings belong here):
#   1. one 10 MiB download under a 1 MB/s rule: its time against 10 s (and against 10 MiB at
#      1,000,000 B/s, 10.49 s), target +-5 %;
#   2. eight parallel 2 MiB downloads under one shared 1 MB/s rule: their total rate against
#      1,000,000 B/s, target +-5 %;
#   3. latency=100: the p50 time to first byte with the rule minus the p50 without, against
#      100 ms, target +-5 ms.
#
# Usage: bench/network-accuracy.sh [--release] [--samples 50]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

profile=debug
samples=50
while (($#)); do
  case $1 in
    --release) profile=release ;;
    --samples) samples=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

ensure_rust
if [[ $profile == release ]]; then
  cargo build --release -p wharf-cli
else
  cargo build -p wharf-cli
fi
wharf="$CARGO_TARGET_DIR/$profile/wharf"

tmp=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/site/rated" "$tmp/site/shared" "$tmp/site/slow"
head -c $((10 * 1024 * 1024)) /dev/urandom > "$tmp/site/rated/10m.bin"
for i in 1 2 3 4 5 6 7 8; do head -c $((2 * 1024 * 1024)) /dev/urandom > "$tmp/site/shared/$i.bin"; done
echo small > "$tmp/site/slow/a.txt"
echo small > "$tmp/site/a.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$wharf" serve "$tmp/site" --port "$port" --no-live-reload \
  --network '/rated/** rate=1000000' \
  --network '/shared/** rate=1000000 per=rule' \
  --network '/slow/** latency=100' > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/a.txt" && break; sleep 0.1; done
base="http://127.0.0.1:$port"

echo "1. 10 MiB under a 1 MB/s rule"
read -r took size < <(curl -fs -o /dev/null -w '%{time_total} %{size_download}\n' "$base/rated/10m.bin")
python3 - "$took" "$size" <<'PY'
import sys
took, size = float(sys.argv[1]), int(sys.argv[2])
exact = size / 1_000_000
print(f"   {size} B in {took:.3f} s: {(took / 10 - 1) * 100:+.2f} % against 10 s, "
      f"{(took / exact - 1) * 100:+.2f} % against {exact:.2f} s (its bytes at 1,000,000 B/s)")
PY

echo "2. eight parallel 2 MiB downloads under one shared 1 MB/s rule"
start=$(date +%s.%N)
downloads=()
for i in 1 2 3 4 5 6 7 8; do
  curl -fs -o /dev/null -w '%{size_download}\n' "$base/shared/$i.bin" > "$tmp/par.$i" &
  downloads+=($!)
done
wait "${downloads[@]}"
end=$(date +%s.%N)
python3 - "$start" "$end" "$tmp"/par.* <<'PY'
import sys
start, end = float(sys.argv[1]), float(sys.argv[2])
total = sum(int(open(p).read().strip()) for p in sys.argv[3:])
rate = total / (end - start)
print(f"   {total} B in {end - start:.3f} s: {rate:,.0f} B/s, {(rate / 1e6 - 1) * 100:+.2f} % against 1,000,000 B/s")
PY

echo "3. added latency (latency=100), p50 of $samples requests each"
for path in a.txt slow/a.txt; do
  for _ in $(seq "$samples"); do
    curl -fs -o /dev/null -w '%{time_starttransfer}\n' "$base/$path"
  done > "$tmp/ttfb.${path//\//_}"
done
python3 - "$tmp/ttfb.a.txt" "$tmp/ttfb.slow_a.txt" <<'PY'
import statistics, sys
bare = statistics.median(float(x) for x in open(sys.argv[1]))
slow = statistics.median(float(x) for x in open(sys.argv[2]))
added = (slow - bare) * 1000
print(f"   p50 {slow * 1000:.2f} ms with the rule, {bare * 1000:.2f} ms without: "
      f"{added:.2f} ms added, {added - 100:+.2f} ms against 100 ms")
PY
