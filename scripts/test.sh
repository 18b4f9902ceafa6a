#!/usr/bin/env bash
# `npm test`: every test. Rust unit and integration tests, the same server tests built for
# Windows and run under Wine, live reload in headless Chromium, UI unit tests, then the
# end-to-end tests of the real window under Xvfb through tauri-driver and WebKitWebDriver.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
ensure_debian_packages "${APP_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${BROWSER_PACKAGES[@]}" "${WINDOWS_PACKAGES[@]}" libreoffice-calc-nogui
ensure_rust_target x86_64-pc-windows-gnu
ensure_node_modules
ensure_tauri_driver

step() { printf '\n== %s\n' "$*"; }

step "UI build (src-tauri embeds ui/dist at compile time)"
npm run --silent build:ui

step "Rust: unit, integration and doc tests"
cargo test --workspace

step "Windows: server-core's unit and integration tests under Wine"
bash scripts/test-windows.sh

step "Browser: live reload in headless Chromium"
WHARF_BIN="$CARGO_TARGET_DIR/debug/wharf" node --test --test-reporter=spec tests/browser/

step "UI unit tests (Vitest)"
npm run --silent test:ui

step "End-to-end: the real window under Xvfb"
cargo build -p wharf-desktop
export WHARF_APP_BIN="$CARGO_TARGET_DIR/debug/wharf-desktop"
rm -rf artifacts/e2e
xvfb-run -a -s "-screen 0 1280x900x24" node --test --test-concurrency=1 --test-reporter=spec tests/e2e/
echo "screenshots: $WHARF_ROOT/artifacts/e2e/"
