#!/usr/bin/env bash
# server-core's and the CLI's unit and integration tests, built for Windows (x86_64-pc-windows-gnu) and run
# under Wine: real sockets on 127.0.0.1, real files, the real `wharf.exe`.
#
# Each test executable runs under /usr/lib/wine/wine64 in a private Wine prefix under the cargo
# target dir (made once), bounded by `timeout`. Beside the executables go two test-harness-only
# helpers from tests/windows/, built with mingw and never shipped: the `bcryptprimitives.dll`
# stub Wine 8 lacks, and `ctrl-c.exe`, which presses Ctrl-C in another process's console.
# Prints one line per test executable; the full output of a failing one. Exits 1 if any fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

TARGET=x86_64-pc-windows-gnu
# Seconds one test executable may run under Wine.
LIMIT=600
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
work="$CARGO_TARGET_DIR/wine"
export WINEPREFIX="$work/prefix" WINEDEBUG=-all
# No Mono or Gecko: the tests need neither, and installing them would want the network.
export WINEDLLOVERRIDES="mscoree,mshtml="

ensure_rust
ensure_debian_packages "${WINDOWS_PACKAGES[@]}"
ensure_rust_target "$TARGET"
mkdir -p "$work"

# The helpers, rebuilt when their source changes: helper OUT SOURCE... [-- GCC FLAGS...].
helper() {
  local out="$work/$1" src=() flags=()
  shift
  while [[ $# -gt 0 && $1 != -- ]]; do src+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift && flags=("$@")
  if [[ ! -f $out || -n $(find "${src[@]}" -newer "$out") ]]; then
    x86_64-w64-mingw32-gcc -O2 "${flags[@]}" -o "$out" "${src[@]}" -ladvapi32
  fi
}
helper bcryptprimitives.dll tests/windows/bcryptprimitives.{c,def} -- -shared
helper ctrl-c.exe tests/windows/ctrl-c.c

# Build, and list the test executables from cargo's JSON messages.
log="$work/build.log"
if ! cargo test --no-run --target "$TARGET" -p wharf-core -p wharf-cli --message-format=json >"$work/build.json" 2>"$log"; then
  cat "$log" >&2
  exit 1
fi
mapfile -t tests < <(grep -E '"profile":\{[^}]*"test":true\}' "$work/build.json" | grep -o '"executable":"[^"]*"' | cut -d'"' -f4)
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "wharf: no test executables for $TARGET" >&2
  exit 1
fi
for dir in "$CARGO_TARGET_DIR/$TARGET/debug" $(printf '%s\n' "${tests[@]}" | xargs -n1 dirname | sort -u); do
  cp -u "$work/bcryptprimitives.dll" "$work/ctrl-c.exe" "$dir/"
done

# The prefix is made on first use; then one wineserver serves the whole run and is stopped at
# the end.
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  timeout 300 "$WINE" wineboot -i >"$work/wineboot.log" 2>&1
  "$WINESERVER" -w
fi
"$WINESERVER" -p </dev/null >/dev/null 2>&1
trap '"$WINESERVER" -k 2>/dev/null || true' EXIT

# Tests Wine cannot pass because Wine lacks what they test, each with the reason. They still
# run on Linux, and are meant to pass on Windows itself (not available here).
WINE_GAPS=(
  # Wine's ReadDirectoryChangesW watches the subfolders made after the watch began, not those
  # that were there before it.
  files::watcher::tests::changes_anywhere_below_the_root_move_the_epoch
  # Wine keeps a deleted folder visible while a handle (the watch) holds it open, where
  # Windows refuses to open it, so the watcher never learns that the root was deleted.
  files::watcher::tests::a_replaced_root_is_watched_again
)
skips=()
for gap in "${WINE_GAPS[@]}"; do skips+=(--skip "$gap"); done

failed=0
for exe in "${tests[@]}"; do
  name=$(basename "$exe" .exe)
  out="$work/$name.log"
  start=$SECONDS
  if timeout "$LIMIT" "$WINE" "$exe" --exact "${skips[@]}" >"$out" 2>&1; then
    echo "wine: ${name%-*}: $(grep -h '^test result:' "$out" | tail -1) ($((SECONDS - start)) s)"
  else
    echo "wine: ${name%-*}: FAILED (exit $?, $((SECONDS - start)) s); its output:" >&2
    cat "$out" >&2
    failed=1
  fi
done
echo "wine: ${#tests[@]} test executables; skipped as Wine gaps: ${WINE_GAPS[*]}"
exit "$failed"
