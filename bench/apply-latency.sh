#!/usr/bin/env bash
# Apply latency: time from ServerHandle::apply() returning to the first new connection served
# on the new config, with 1,000 idle keep-alive connections open. Prints p50/p90/p99/max and
# whether the p99 meets 5 ms. See server-core/examples/apply_latency.rs.
#
# Usage: bench/apply-latency.sh [--iterations 200] [--idle 1000] [--target-p99-ms 5]
# Needs about 2 x --idle file descriptors (both ends of each connection are in one process).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
cargo run --release -p wharf-core --example apply_latency -- "$@"
