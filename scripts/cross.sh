#!/usr/bin/env bash
# Cross builds from Linux, so that macOS and Windows never silently break (issue 14):
# - macOS, aarch64 and x86_64: server-core (lib, tests), the `wharf` CLI (cli/) and the desktop
#   crate pass clippy with warnings denied. Compile checks only: linking needs Apple's SDK. Zig,
#   through cargo-zigbuild, is the C compiler (ring's build script compiles C).
# - Windows: the desktop app builds with mingw (x86_64-pc-windows-gnu), and WebView2Loader.dll,
#   the one DLL it imports that Windows does not ship, lies beside the exe (tauri-build copies it
#   there from webview2-com-sys on the gnu target). Build only: WebView2 does not run under Wine.
# Quiet unless something fails; then the build's output is shown and the script fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

MAC_TARGETS=(aarch64-apple-darwin x86_64-apple-darwin)
WINDOWS_TARGET=x86_64-pc-windows-gnu

ensure_rust
ensure_rust_target "${MAC_TARGETS[@]}" "$WINDOWS_TARGET"
ensure_zigbuild
ensure_debian_packages mingw-w64
# src-tauri embeds ui/dist at compile time.
[[ -f ui/dist/index.html ]] || npm run --silent build:ui

log=$(mktemp)
trap 'rm -f "$log"' EXIT
quietly() {
  local what=$1
  shift
  local started=$SECONDS
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "cross: FAILED: $what" >&2
    return 1
  fi
  echo "cross: $what ($((SECONDS - started)) s)"
}

for target in "${MAC_TARGETS[@]}"; do
  quietly "$target: clippy of wharf-core, wharf-cli and wharf-desktop" \
    cargo-zigbuild clippy --quiet --target "$target" -p wharf-core -p wharf-cli -p wharf-desktop --all-targets \
    -- -D warnings
done

quietly "$WINDOWS_TARGET: wharf-desktop.exe" \
  cargo build --quiet --target "$WINDOWS_TARGET" -p wharf-desktop
# A warning in the build log is a failure too, as on the other targets.
if grep -q '^warning' "$log"; then
  cat "$log" >&2
  echo "cross: FAILED: warnings in the $WINDOWS_TARGET build" >&2
  exit 1
fi
out="$CARGO_TARGET_DIR/$WINDOWS_TARGET/debug"
# Every DLL the exe imports must be one Windows ships or one that lies beside it.
imports=$(x86_64-w64-mingw32-objdump -p "$out/wharf-desktop.exe" | sed -n 's/^\s*DLL Name: //p')
grep -qix 'WebView2Loader.dll' <<<"$imports" || {
  echo "cross: wharf-desktop.exe no longer imports WebView2Loader.dll: $imports" >&2
  exit 1
}
[[ -f $out/WebView2Loader.dll ]] || {
  echo "cross: WebView2Loader.dll is not beside $out/wharf-desktop.exe" >&2
  exit 1
}
echo "cross: $out/wharf-desktop.exe with WebView2Loader.dll"
