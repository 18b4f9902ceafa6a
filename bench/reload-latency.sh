#!/usr/bin/env bash
# Live-reload latency: time from a file saved to its event (css or reload) delivered on the
# event stream. Prints p50/p99/max and whether the p99 meets 100 ms.
# See server-core/examples/reload_latency.rs.
#
# Usage: bench/reload-latency.sh [--iterations 100] [--target-p99-ms 100]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
cargo run --release -p wharf-core --example reload_latency -- "$@"
