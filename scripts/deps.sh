# Installs what Wharf needs and is missing: Debian packages, npm packages, tauri-driver.
# Sourced by start.sh, test.sh, build.sh and .ci/run; defines functions only.

# Needed to build and run the desktop app.
APP_PACKAGES=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev build-essential pkg-config)
# Needed to run the end-to-end tests of the real window, headless.
E2E_PACKAGES=(xvfb xauth webkit2gtk-driver dbus-daemon trayer xdotool imagemagick python3)
# Needed to run the browser tests of live reload (headless, driven by playwright-core).
# libnss3-tools: certutil, for `wharf trust` into Chromium's and Firefox's NSS databases (tests/browser/trust.test.mjs).
BROWSER_PACKAGES=(chromium libnss3-tools)
# Needed to read the .rpm package back (scripts/check-packages.sh; dpkg-deb comes with Debian).
PACKAGE_CHECK_PACKAGES=(rpm)
# Needed to cross-build for Windows and run the server's tests under Wine (scripts/test-windows.sh).
WINDOWS_PACKAGES=(mingw-w64 wine64)

# ensure_debian_packages PKG...: installs the missing ones with apt-get, as root directly or
# through sudo; without either, prints the command to run and fails.
ensure_debian_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "wharf: not a Debian/Ubuntu system; make sure these are installed: $*" >&2
    return 0
  fi
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local apt=(apt-get install -y -q --no-install-recommends "${missing[@]}")
  echo "wharf: installing Debian packages: ${missing[*]}" >&2
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive "${apt[@]}"
  elif command -v sudo >/dev/null 2>&1; then
    echo "wharf: not root, so asking sudo (it may prompt for your password)" >&2
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive "${apt[@]}"
  else
    echo "wharf: missing packages and no sudo; as root, run:" >&2
    echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
    return 1
  fi
}

ensure_rust() {
  [[ -d $HOME/.cargo/bin ]] && export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null 2>&1; then
    echo "wharf: Rust is not installed; install it from https://rustup.rs and run this again" >&2
    return 1
  fi
}

# Installs the npm packages pinned in package-lock.json when node_modules is missing or older
# than the lock. (`npm install` rather than `npm ci`, so an existing node_modules is updated in
# place instead of deleted; the lock holds every platform's optional packages, so `npm ci` works too.)
ensure_node_modules() {
  local stamp="$WHARF_ROOT/node_modules/.package-lock.json"
  if [[ ! -f $stamp || $WHARF_ROOT/package-lock.json -nt $stamp ]]; then
    (cd "$WHARF_ROOT" && npm install --no-audit --no-fund)
  fi
}

# Cargo's output outlives clones (env.sh), so its stale incremental state and old artifacts
# pile up across builds. Keeps room for a full build: below 20 GB free it drops the incremental
# caches, below 10 GB the whole cache (the next build is cold, about 10 minutes, but it fits).
ensure_build_space() {
  local free_gb
  mkdir -p "$CARGO_TARGET_DIR"
  free_gb=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR == 2 { print int($4 / 1048576) }')
  ((free_gb >= 20)) && return 0
  echo "wharf: ${free_gb} GB free; dropping Cargo's incremental caches in $CARGO_TARGET_DIR" >&2
  rm -rf "$CARGO_TARGET_DIR"/debug/incremental "$CARGO_TARGET_DIR"/*/debug/incremental
  free_gb=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR == 2 { print int($4 / 1048576) }')
  ((free_gb >= 10)) && return 0
  echo "wharf: still ${free_gb} GB free; dropping Cargo's whole cache (the next build is cold)" >&2
  rm -rf "${CARGO_TARGET_DIR:?}"/*
}

ensure_tauri_driver() {
  command -v tauri-driver >/dev/null 2>&1 && return 0
  echo "wharf: installing tauri-driver (cargo install, about 2 minutes)" >&2
  cargo install tauri-driver --locked
}

# ensure_rust_target TARGET...: adds the rustup targets that are missing.
ensure_rust_target() {
  local installed missing=() target
  installed=$(rustup target list --installed)
  for target in "$@"; do
    grep -qx "$target" <<<"$installed" || missing+=("$target")
  done
  [[ ${#missing[@]} -eq 0 ]] || rustup target add "${missing[@]}"
}

# cargo-zigbuild and Zig (both from PyPI): Zig is the C compiler and linker for the macOS
# compile checks in scripts/cross.sh (ring's build script compiles C).
ensure_zigbuild() {
  command -v cargo-zigbuild >/dev/null 2>&1 && python3 -c 'import ziglang' 2>/dev/null && return 0
  echo "wharf: installing cargo-zigbuild and ziglang (pip)" >&2
  python3 -m pip install --quiet cargo-zigbuild ziglang 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages cargo-zigbuild ziglang
  export PATH="$HOME/.local/bin:$PATH"
  hash -r
}

# Firefox's DevTools modules (its network monitor's HAR import, tests/browser/har-import.test.mjs),
# taken from Debian's firefox-esr package without installing Firefox: the package is downloaded,
# and only the DevTools folder of its omni.ja (a zip) is kept, in Cargo's cache's sibling. Exports
# WHARF_FIREFOX_DEVTOOLS, the folder the modules' `resource://devtools/` ids resolve under.
ensure_firefox_devtools() {
  local cache="$HOME/.cache/wharf/firefox-devtools"
  export WHARF_FIREFOX_DEVTOOLS="$cache/chrome/devtools/modules/devtools"
  [[ -f $WHARF_FIREFOX_DEVTOOLS/client/netmonitor/src/har/har-importer.js ]] && return 0
  echo "wharf: extracting Firefox's DevTools from Debian's firefox-esr package (about 80 MB)" >&2
  local work
  work=$(mktemp -d)
  local download=(apt-get download -q)
  # As root, apt would hand the download to its own user, who cannot write here.
  [[ $(id -u) -eq 0 ]] && download+=(-o APT::Sandbox::User=root)
  if ! (cd "$work" && "${download[@]}" firefox-esr >/dev/null); then
    # A machine whose package lists were never fetched: fetch them, then try again.
    if [[ $(id -u) -eq 0 ]]; then apt-get update -q; else sudo apt-get update -q; fi
    (cd "$work" && "${download[@]}" firefox-esr >/dev/null)
  fi
  dpkg-deb --fsys-tarfile "$work"/firefox-esr_*.deb | tar -x -C "$work" ./usr/lib/firefox-esr/browser/omni.ja
  rm -rf "$cache.part"
  python3 - "$work/usr/lib/firefox-esr/browser/omni.ja" "$cache.part" <<'PY'
import sys, zipfile
omni = zipfile.ZipFile(sys.argv[1])
omni.extractall(sys.argv[2], [n for n in omni.namelist() if n.startswith("chrome/devtools/modules/devtools/")])
PY
  rm -rf "$cache" && mv "$cache.part" "$cache"
  rm -rf "$work"
}
