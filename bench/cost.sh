#!/usr/bin/env bash
# What a change costs the request path with the log on (issue 19: keeping headers, the
# timeline): scenario a (a 1 KiB file, 64 keep-alive connections, wrk's default headers) with
# `--log-dir`, two `wharf` binaries built before and after the change, in alternating pairs, the
# server pinned to CPU 0 and wrk to CPU 1. Prints each run's requests/s, each pair's ratios, the
# medians, and the session log's bytes per record for each binary. On a machine shared with
# other work, requests/s swings with the other load; the server's CPU time per request (user +
# system, from /proc) is steadier, and is printed too. The per-pair ratios are the figure to
# quote: a pair's two runs are seconds apart, so slow drift hits both alike.
#
# Usage: bench/cost.sh BEFORE_WHARF AFTER_WHARF [PAIRS=5] [SECONDS=6]
set -euo pipefail

before=$1 after=$2 pairs=${3:-5} seconds=${4:-6}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/site"
head -c 1024 /dev/urandom > "$work/site/1k.bin"
port=$((20000 + RANDOM % 20000))

# One run: prints "<req/s> <bytes per record> <server CPU µs per request> <log writer's share>".
run() {
  local bin=$1 logs="$work/logs-$RANDOM"
  taskset -c 0 "$bin" serve "$work/site" --port "$port" --log-dir "$logs" \
    > "$work/server.out" 2> "$work/server.err" &
  local pid=$!
  for _ in $(seq 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/1k.bin" && break
    sleep 0.05
  done
  local rps ticks_before ticks_after out
  ticks_before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(taskset -c 1 wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port/1k.bin")
  ticks_after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
  local requests cpu_us
  requests=$(awk '/requests in/ {print $1}' <<< "$out")
  cpu_us=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  kill -INT "$pid"
  wait "$pid" || true
  local records dropped bytes
  records=$(grep -ho 'access log: [0-9]* requests' "$work/server.err" | grep -o '[0-9]*' || echo 0)
  # Records retention deleted (a session keeps 256 MiB) are no longer on disk.
  dropped=$(cat "$logs"/*/session.json | grep -o '"droppedRecords":[0-9]*' | grep -o '[0-9]*$' || echo 0)
  records=$((records - dropped))
  # Each segment starts with an 8-byte header.
  bytes=$(find "$logs" -name '*.wlog' -printf '%s\n' | awk '{sum += $1 - 8} END {print sum + 0}')
  rm -rf "$logs"
  local writer_us
  writer_us=$(grep -o 'the writer used [0-9.]* µs' "$work/server.err" | grep -o '[0-9.]*' || echo 0)
  echo "$rps $(awk -v b="$bytes" -v r="$records" 'BEGIN {printf "%.1f", r ? b / r : 0}') $cpu_us $writer_us"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

: > "$work/before" && : > "$work/after"
for i in $(seq "$pairs"); do
  # Alternate which goes first, so drift hits both alike.
  if ((i % 2)); then order="before after"; else order="after before"; fi
  for which in $order; do
    bin=$before && [[ $which == after ]] && bin=$after
    result=$(run "$bin")
    echo "pair $i $which: $result (req/s, bytes/record, CPU µs/request, of which the log writer's)"
    echo "$result" >> "$work/$which"
  done
done
# Each pair's ratios, after ÷ before: requests/s, and CPU per request.
paste -d' ' "$work/before" "$work/after" \
  | awk '{printf "%.4f %.4f\n", $5 / $1, $7 / $3}' > "$work/pairs"
echo "per-pair req/s ratios: $(cut -d' ' -f1 "$work/pairs" | sort -g | tr '\n' ' ')"
echo "per-pair CPU/request ratios: $(cut -d' ' -f2 "$work/pairs" | sort -g | tr '\n' ' ')"
echo "median per-pair ratio: req/s $(cut -d' ' -f1 "$work/pairs" | median), CPU per request $(cut -d' ' -f2 "$work/pairs" | median)"
b=$(cut -d' ' -f1 "$work/before" | median) a=$(cut -d' ' -f1 "$work/after" | median)
echo "median req/s: before $b, after $a, ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}')"
echo "bytes per record: before $(cut -d' ' -f2 "$work/before" | median), after $(cut -d' ' -f2 "$work/after" | median)"
c_b=$(cut -d' ' -f3 "$work/before" | median) c_a=$(cut -d' ' -f3 "$work/after" | median)
echo "median server CPU per request: before $c_b µs, after $c_a µs, ratio $(awk -v a="$c_a" -v b="$c_b" 'BEGIN {printf "%.3f", a / b}')"
echo "median log writer CPU per request: before $(cut -d' ' -f4 "$work/before" | median) µs, after $(cut -d' ' -f4 "$work/after" | median) µs"
