#!/usr/bin/env bash
# Live-config soak test: clients download from an in-process server while a new config is
# applied every 100 ms (new Cache-Control marker; root, port and keep-alive changes among
# them). Fails on any failed request, corrupt body or response from the wrong generation.
# See server-core/examples/soak.rs for what it checks.
#
# Usage: bench/soak-live-config.sh [--seconds 60] [--clients 32] [--apply-every-ms 100]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
cargo run --release -p wharf-core --example soak -- "$@"
