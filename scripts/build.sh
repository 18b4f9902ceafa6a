#!/usr/bin/env bash
# `npm run build`: a release build of the app and its .deb package (works offline).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"
ensure_rust
ensure_debian_packages "${APP_PACKAGES[@]}"
ensure_node_modules
npx tauri build --bundles deb
echo "package: $(ls "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb)"
