#!/usr/bin/env bash
# Memory per idle keep-alive connection, Wharf and nginx side by side (1,000 connections that
# each made one request and then stay idle). Usage: bench/idle-memory.sh [--conns N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"
ensure_rust
ensure_debian_packages nginx-light curl
cargo build --release -p wharf-core --bin wharf
fixture=${WHARF_BENCH_FIXTURE:-/tmp/wharf-bench-fixture}
[[ -f $fixture/1k.bin ]] || (umask 022 && bench/harness/make-fixture.sh "$fixture")
bench/harness/idle-mem.sh --root "$fixture" --conns 1000 \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "wharf=$CARGO_TARGET_DIR/release/wharf serve {ROOT} --port {PORT}" \
  "$@"
