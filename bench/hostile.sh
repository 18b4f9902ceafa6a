#!/usr/bin/env bash
# Hostile clients against a release `wharf serve` (issue 13, point 5). Each pattern runs for a
# bounded time against a fresh server: many live-reload streams over HTTP/1.1 (from one
# address and from 250), many over HTTP/2 (10 connections of 100 streams, curl), a flood of
# listing queries with junk parameters against a 5,000-file folder, cache churn through big
# HTML pages in every representation, and huge header values into the access log. For each
# it prints the outcome counts, the server's peak RSS (VmHWM) beside the cap that bounds it,
# and whether a normal `GET /` was served throughout (probed every 0.25 s on a new
# connection). See bench/hostile.py.
#
# Usage: bench/hostile.sh [--seconds 10] [--only NAME]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
cargo build --release -p wharf-cli --bin wharf
# Thousands of sockets on both sides; the server inherits the limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 bench/hostile.py --wharf "$CARGO_TARGET_DIR/release/wharf" "$@"
