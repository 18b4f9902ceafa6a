#!/usr/bin/env bash
# `npm start`: install what is missing, build, and open the Wharf window.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
ensure_debian_packages "${APP_PACKAGES[@]}"
ensure_node_modules
npm run --silent build:ui
echo "wharf: building the app (the first build takes several minutes; later ones seconds)" >&2
cargo build -p wharf-desktop
app="$CARGO_TARGET_DIR/debug/wharf-desktop"

if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  if command -v xvfb-run >/dev/null 2>&1; then
    echo "wharf: no display found; running the window headless under Xvfb (Ctrl-C to stop)" >&2
    exec xvfb-run -a "$app" "$@"
  fi
  echo "wharf: no display found (DISPLAY is unset); run this from a desktop session" >&2
  exit 1
fi
exec "$app" "$@"
