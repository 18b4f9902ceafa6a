#!/usr/bin/env bash
# Live reload in a real browser: headless Chromium (Debian's) on a page served by the release
# `wharf serve`. Times, N saves each, from the file write to the reloaded page's load event
# (HTML) and to the new style applied without a reload (CSS); prints median and p99 and
# whether the p99 meets the target (100 ms). See bench/browser-reload.mjs.
# Timings belong here, never in pass/fail tests.
#
# Usage: bench/browser-reload.sh [--iterations 50] [--target-ms 100]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
ensure_debian_packages "${BROWSER_PACKAGES[@]}"
ensure_node_modules
cargo build --release -p wharf-cli --bin wharf
WHARF_BIN="$CARGO_TARGET_DIR/release/wharf" exec node bench/browser-reload.mjs "$@"
