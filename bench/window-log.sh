#!/usr/bin/env bash
# How smooth the desktop window stays while a site is hammered: the release app under Xvfb,
# one site serving the fixture's 1 KiB file, wrk at full speed for DURATION seconds (default
# 10) with the Live log tab open and following. Prints the requests per second wrk reached,
# the rows the window received and skipped, and the window's frame intervals (p50, p95, max).
# Timings belong here, never in pass/fail tests. The machine has 2 cores shared by wrk, the
# server, WebKit and Xvfb, so read the frame times as an upper bound.
#
# Usage: bench/window-log.sh [DURATION]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
ensure_debian_packages "${APP_PACKAGES[@]}" "${E2E_PACKAGES[@]}"
ensure_node_modules
ensure_tauri_driver
npm run --silent build:ui
cargo build --release -p wharf-desktop
export WHARF_APP_BIN="$CARGO_TARGET_DIR/release/wharf-desktop"
export WHARF_BENCH_FIXTURE="$fixture" WHARF_BENCH_DURATION="${1:-10}"
xvfb-run -a -s "-screen 0 1280x900x24" node bench/window-log.mjs
