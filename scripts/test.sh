#!/usr/bin/env bash
# `npm test`: every test. Rust unit and integration tests, the same server tests built for
# Windows and run under Wine, live reload in headless Chromium, UI unit tests, the end-to-end
# tests of the real window under Xvfb through tauri-driver and WebKitWebDriver, then the cross
# builds for macOS and Windows. The OS picks the steps (WHARF_OS, see env.sh): macOS and Windows
# run the Rust, browser and UI tests natively; Wine, the window's end-to-end tests and the cross
# builds run on Linux only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
ensure_build_space
if [[ $WHARF_OS == linux ]]; then
  ensure_debian_packages "${APP_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${BROWSER_PACKAGES[@]}" "${WINDOWS_PACKAGES[@]}" "${PACKAGE_CHECK_PACKAGES[@]}" libreoffice-calc-nogui
  ensure_rust_target x86_64-pc-windows-gnu
  ensure_tauri_driver
  ensure_firefox_devtools
fi
ensure_node_modules
exe=""
[[ $WHARF_OS == windows ]] && exe=".exe"

step() { printf '\n== %s\n' "$*"; }

# Runs a test step (not a build) bounded in time: `bounded MINUTES CMD...`. A step that hangs
# fails the run with its name, instead of holding CI until its own limit.
bounded() {
  local minutes=$1
  shift
  local rc=0
  timeout --kill-after=30 "$((minutes * 60))" "$@" || rc=$?
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "wharf: this step ran longer than $minutes minutes and was stopped: $*" >&2
  fi
  return "$rc"
}

step "UI build (src-tauri embeds ui/dist at compile time)"
npm run --silent build:ui

step "Rust: unit, integration and doc tests"
cargo test --workspace --no-run
bounded 20 cargo test --workspace

if [[ $WHARF_OS == linux ]]; then
  step "Windows: server-core's and the CLI's unit and integration tests under Wine"
  bash scripts/test-windows.sh
fi

step "Browser: live reload, trust and DNS rebinding in headless Chromium; HAR import in Chrome's and Firefox's DevTools"
case $WHARF_OS in
  linux) chromium=/usr/bin/chromium ;;
  macos) chromium="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" ;;
  windows) chromium="C:/Program Files/Google/Chrome/Application/chrome.exe" ;;
esac
export WHARF_CHROMIUM="${WHARF_CHROMIUM:-$chromium}"
# Linux always runs it (deps.sh installs Chromium); elsewhere it needs a Chrome.
if [[ $WHARF_OS == linux || -f $WHARF_CHROMIUM ]]; then
  export WHARF_BIN="$CARGO_TARGET_DIR/debug/wharf$exe"
  bounded 10 node --test --test-force-exit --test-reporter=spec tests/browser/
else
  echo "skipped: no browser at $WHARF_CHROMIUM (set WHARF_CHROMIUM to a Chromium or Chrome)"
fi

step "UI unit tests (Vitest)"
bounded 10 npm run --silent test:ui

[[ $WHARF_OS == linux ]] || exit 0
# Linux only from here: WebKitWebDriver drives the window; Linux builds for the other OSes.

step "End-to-end: the real window under Xvfb"
cargo build -p wharf-desktop
export WHARF_APP_BIN="$CARGO_TARGET_DIR/debug/wharf-desktop"
rm -rf artifacts/e2e
# --test-force-exit: a file whose tests are done ends even if a handle is left open.
bounded 20 dbus-run-session -- xvfb-run -a -s "-screen 0 1280x900x24" \
  node --test --test-concurrency=1 --test-force-exit --test-reporter=spec tests/e2e/
echo "screenshots: $WHARF_ROOT/artifacts/e2e/"
bash scripts/check-packages.sh

step "Cross builds: macOS compile checks, the Windows app"
bash scripts/cross.sh
