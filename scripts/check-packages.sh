#!/usr/bin/env bash
# Checks the Linux packages `npm run build` makes, fast: bundles the .deb and .rpm from the
# debug build the end-to-end step just made (`tauri bundle` packs the binary that is there and
# compiles nothing), reads them back (dpkg-deb, rpm -qlp), then installs the .deb into a
# throwaway root with dpkg and the .rpm with rpm, and checks what lands: the binary and the
# libraries it needs, the "Open with Wharf" desktop entry (Exec with %F, MimeType
# inode/directory), the icons in the hicolor sizes, and the dependencies (WebKitGTK 4.1;
# ayatana-appindicator once the app has a tray icon). Linux only; run by scripts/test.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$WHARF_ROOT"

printf '\n== %s\n' "Packages: the .deb and .rpm, read back and installed in a throwaway root"
bin=wharf-desktop
bundle_dir="$CARGO_TARGET_DIR/debug/bundle"
[[ -x $CARGO_TARGET_DIR/debug/$bin ]] || { echo "check-packages: build the app first (cargo build -p wharf-desktop)" >&2; exit 1; }
rm -rf "$bundle_dir/deb" "$bundle_dir/rpm"
npx tauri bundle --debug --bundles deb,rpm --ci

deb=$(ls "$bundle_dir"/deb/*.deb)
rpm=$(ls "$bundle_dir"/rpm/*.rpm)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

failures=0
fail() {
  echo "check-packages: $*" >&2
  failures=$((failures + 1))
}
# expect_line WHAT TEXT LINE: TEXT has the exact line LINE.
expect_line() {
  grep -qxF -- "$3" <<<"$2" || fail "$1 lacks the line: $3"
}

desktop=usr/share/applications/Wharf.desktop
expected_files=(
  "usr/bin/$bin"
  "$desktop"
  "usr/share/icons/hicolor/32x32/apps/$bin.png"
  "usr/share/icons/hicolor/128x128/apps/$bin.png"
  "usr/share/icons/hicolor/256x256@2/apps/$bin.png"
)
# The tray (tauri's tray-icon feature) loads libayatana-appindicator at run time, so the
# packages must depend on it once the feature is on.
tray=false
grep -Eq '^tauri = .*"tray-icon"' src-tauri/Cargo.toml && tray=true

# The .deb: its file list, control fields and desktop entry, then installed by dpkg.
deb_files=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||')
deb_depends=$(dpkg-deb -f "$deb" Depends)
echo "deb: $(basename "$deb"), $(du -h "$deb" | cut -f1); Depends: $deb_depends"
for file in "${expected_files[@]}"; do
  expect_line ".deb's file list" "$deb_files" "$file"
done
[[ $deb_depends == *libwebkit2gtk-4.1-0* ]] || fail ".deb does not depend on libwebkit2gtk-4.1-0"
if $tray; then
  [[ $deb_depends == *libayatana-appindicator3-1* ]] || fail ".deb does not depend on libayatana-appindicator3-1"
fi

mkdir -p "$root/deb/var/lib/dpkg/info" "$root/deb/var/lib/dpkg/updates"
touch "$root/deb/var/lib/dpkg/status"
# --force-depends: the root is empty, the dependencies are this machine's.
dpkg --root="$root/deb" --log=/dev/null --force-depends --force-script-chrootless -i "$deb" >"$root/dpkg.log" 2>&1 ||
  { cat "$root/dpkg.log" >&2; fail "dpkg could not install the .deb"; }
[[ $(dpkg-query --admindir="$root/deb/var/lib/dpkg" -W -f='${Status}' wharf) == "install ok installed" ]] ||
  fail "dpkg did not install the .deb"
for file in "${expected_files[@]}"; do
  [[ -s $root/deb/$file ]] || fail ".deb did not install $file"
done
[[ -x $root/deb/usr/bin/$bin ]] || fail ".deb's $bin is not executable"
missing=$(ldd "$root/deb/usr/bin/$bin" | grep 'not found' || true)
[[ -z $missing ]] || fail "the installed $bin misses libraries: $missing"
entry=$(cat "$root/deb/$desktop")
expect_line ".deb's desktop entry" "$entry" "Exec=$bin %F"
expect_line ".deb's desktop entry" "$entry" "MimeType=inode/directory;"
expect_line ".deb's desktop entry" "$entry" "Icon=$bin"
expect_line ".deb's desktop entry" "$entry" "Name=Wharf"
if command -v desktop-file-validate >/dev/null 2>&1; then
  desktop-file-validate "$root/deb/$desktop" || fail "the desktop entry is not valid"
fi

# The .rpm: its file list and requirements, then installed by rpm into its own database.
rpm_files=$(rpm -qlp "$rpm" 2>/dev/null | sed 's|^/||')
rpm_requires=$(rpm -qp --requires "$rpm" 2>/dev/null)
echo "rpm: $(basename "$rpm"), $(du -h "$rpm" | cut -f1); Requires: $(tr '\n' ' ' <<<"$rpm_requires")"
for file in "${expected_files[@]}"; do
  expect_line ".rpm's file list" "$rpm_files" "$file"
done
# rpm names the libraries the binary links (found by the bundler), not packages.
grep -Eq '^(webkit2gtk4.1|libwebkit2gtk-4.1.so)' <<<"$rpm_requires" || fail ".rpm does not require WebKitGTK 4.1"
if $tray; then
  grep -q 'appindicator' <<<"$rpm_requires" || fail ".rpm does not require libayatana-appindicator"
fi
rpm --root="$root/rpm" --dbpath=/var/lib/rpm --initdb
rpm --root="$root/rpm" --dbpath=/var/lib/rpm --nodeps --noscripts -i "$rpm" 2>/dev/null
for file in "${expected_files[@]}"; do
  [[ -s $root/rpm/$file ]] || fail ".rpm did not install $file"
done
cmp -s "$root/deb/$desktop" "$root/rpm/$desktop" || fail "the .deb and .rpm install different desktop entries"

if ((failures > 0)); then
  echo "check-packages: $failures problem(s) in $deb and $rpm" >&2
  exit 1
fi
echo "packages: ok ($deb, $rpm)"
