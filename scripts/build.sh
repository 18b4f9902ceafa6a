#!/usr/bin/env bash
# `npm run build`: a release build of the app and its packages for this OS: a .deb and an .rpm
# on Linux (both offline; they install the "Open with Wharf" entry and the icons), an .app and
# .dmg on macOS, an NSIS installer on Windows. (Tauri's NSIS bundling downloads its
# nsis_tauri_utils.dll plugin from GitHub on first use, so a Windows installer cannot be made
# offline, nor cross-built here.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"
ensure_rust
case $WHARF_OS in
  linux) bundles=deb,rpm ;;
  macos) bundles=app,dmg ;;
  windows) bundles=nsis ;;
esac
[[ $WHARF_OS == linux ]] && ensure_debian_packages "${APP_PACKAGES[@]}"
ensure_node_modules
npx tauri build --bundles "$bundles"
echo "package: $(ls -d "$CARGO_TARGET_DIR"/release/bundle/*/*.{deb,rpm,dmg,exe} 2>/dev/null)"
