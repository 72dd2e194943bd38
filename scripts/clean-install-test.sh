#!/usr/bin/env bash
# Tests the README's install command on a machine without oneDNN, whatever this machine has installed:
# a fresh clone of HEAD is installed with `npm ci` inside a private mount namespace in which oneDNN's headers
# and libraries, the OpenCL loader and apt's package lists are hidden (overlays whose deletions only that
# namespace sees), so the install has to fetch its private copy of oneDNN, exactly as on a fresh Debian machine.
# Nothing changes for other programs: in that namespace /usr, /etc and dpkg's and apt's state are read-only, so an
# install that tried to install a package or refresh apt's lists would fail.
#
# It checks that
#   1. `npm ci` builds the onednn backend against native/onednn/deps, and `resnet-exp doctor` finds it usable
#      (its conv self-check against `cpu` passes), the addon resolving libdnnl.so.2 and libOpenCL.so.1 to
#      native/onednn/deps/lib (ldd) with no LD_LIBRARY_PATH;
#   2. the onednn tests pass with CI=true (a missing addon fails them);
#   3. with fetching turned off (RESNET_EXP_DNNL=system) the install still exits 0, prints one line saying
#      what to run, and `doctor` prints the same line.
#
# Exit status: 0 passed; 77 the namespace could not be set up here (not root, no unshare/overlayfs): nothing
# was tested; anything else: a check failed (the clone is kept for inspection).
set -uo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
repo="$PWD"

# The part that runs inside the namespace (the script calls itself with --inside).
inside() {
  fail() { echo "clean-install-test: FAILED: $*" >&2; exit 1; }

  # The system, read-only from here on: anything the install tried to install, or any package list it tried to
  # refresh, would fail the install (the clone, /tmp and ~/.npm stay writable).
  for dir in /usr /etc /var/lib/dpkg /var/lib/apt /var/cache/apt; do
    [ -d "$dir" ] || continue
    mount --rbind "$dir" "$dir" && mount -o remount,bind,ro "$dir" || exit 77
  done
  # Hide oneDNN and the OpenCL loader: an overlay over each folder, with the files deleted in its (tmpfs) upper
  # layer, then made read-only too.
  scratch="$WORK/ns"
  mkdir -p "$scratch"
  mount -t tmpfs tmpfs "$scratch" || exit 77
  multiarch="$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
  i=0
  for dir in /usr/include /usr/local/include "/usr/lib/$multiarch" /usr/local/lib; do
    [ -d "$dir" ] || continue
    i=$((i + 1))
    mkdir -p "$scratch/up$i" "$scratch/work$i"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$scratch/up$i,workdir=$scratch/work$i" "$dir" || exit 77
    rm -rf "$dir"/oneapi "$dir"/dnnl*.h "$dir"/dnnl*.hpp "$dir"/libdnnl* "$dir"/libOpenCL* "$dir"/cmake/dnnl
    mount -o remount,ro "$dir" || exit 77
  done
  # The loader's cache would still name the hidden libraries: rebuild it from what this namespace sees.
  ldconfig -C "$scratch/ld.so.cache" 2>/dev/null && mount --bind "$scratch/ld.so.cache" /etc/ld.so.cache || exit 77
  # A fresh container has no package lists either.
  mount -t tmpfs -o ro tmpfs /var/lib/apt/lists || exit 77

  [ ! -e /usr/include/dnnl.hpp ] && [ ! -e /usr/include/oneapi ] || fail "oneDNN headers still visible"
  ! ldconfig -p | grep -qE 'libdnnl|libOpenCL' || fail "libdnnl or libOpenCL still in the loader's cache"
  ! touch /usr/include/.probe /var/lib/dpkg/.probe /var/lib/apt/lists/.probe 2>/dev/null || fail "the system is still writable"
  echo "clean-install-test: in the namespace: no oneDNN headers, no libdnnl/libOpenCL, no apt lists; /usr, /etc, dpkg's and apt's state read-only" >&2

  cd "$WORK/clone" || exit 1
  unset DNNL_ROOT RESNET_EXP_DNNL RESNET_EXP_SKIP_NATIVE LD_LIBRARY_PATH RESNET_EXP_ONEDNN_ADDON

  # 1. The install command alone.
  start=$(date +%s)
  npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1 || fail "npm ci exited $? (see $WORK/npm-ci.log)"
  echo "clean-install-test: npm ci took $(( $(date +%s) - start )) s" >&2
  grep '^resnet-exp: ' "$WORK/npm-ci.log" >&2
  grep -q '^resnet-exp: onednn backend built .* against native/onednn/deps' "$WORK/npm-ci.log" || fail "npm ci did not build onednn against native/onednn/deps"
  npx resnet-exp doctor >"$WORK/doctor.txt" 2>&1; cat "$WORK/doctor.txt" >&2
  grep -qE '^onednn +usable +passes the conv self-check' "$WORK/doctor.txt" || fail "doctor does not find onednn usable"
  ldd native/onednn/build/Release/onednn.node >"$WORK/ldd.txt"; grep -E 'dnnl|OpenCL' "$WORK/ldd.txt" >&2
  grep -qE "libdnnl\.so\.2 => $WORK/clone/native/onednn/build/Release/\.\./\.\./deps/lib/libdnnl\.so\.2 " "$WORK/ldd.txt" || fail "libdnnl.so.2 does not resolve to the private copy"
  grep -qE "libOpenCL\.so\.1 => $WORK/clone/native/onednn/build/Release/\.\./\.\./deps/lib/libOpenCL\.so\.1 " "$WORK/ldd.txt" || fail "libOpenCL.so.1 does not resolve to the private copy"

  # 2. The onednn tests, with a missing addon counting as a failure.
  CI=true node --test dist/test/backend/onednn.test.js >"$WORK/onednn-test.log" 2>&1 || fail "onednn tests failed (see $WORK/onednn-test.log)"
  grep -E '^# (pass|fail|skipped)' "$WORK/onednn-test.log" >&2

  # 3. Fetching turned off: one line saying what to run, exit 0, and doctor says the same.
  rm -rf native/onednn/build
  RESNET_EXP_DNNL=system npm run build:native >"$WORK/system.log" 2>&1 || fail "build:native exited $? with RESNET_EXP_DNNL=system"
  line="$(grep '^resnet-exp: onednn backend unavailable: ' "$WORK/system.log" | sed 's/^resnet-exp: onednn backend unavailable: //')"
  [ -n "$line" ] || fail "no 'onednn backend unavailable' line with RESNET_EXP_DNNL=system"
  echo "clean-install-test: RESNET_EXP_DNNL=system: $line" >&2
  npx resnet-exp doctor >"$WORK/doctor-system.txt" 2>&1
  grep '^onednn' "$WORK/doctor-system.txt" >&2
  grep -qF "the oneDNN addon is not built: $line" "$WORK/doctor-system.txt" || fail "doctor does not repeat the install's line"
  grep -qE '^wasm +usable' "$WORK/doctor-system.txt" || fail "wasm is not usable as the fallback"
}
if [ "${1:-}" = --inside ]; then
  inside
  exit $?
fi

SKIP=77
skip() {
  echo "clean-install-test: cannot set up a clean setting here: $*" >&2
  exit "$SKIP"
}
[ "$(id -u)" -eq 0 ] || skip "mount namespaces need root"
command -v unshare >/dev/null 2>&1 || skip "no unshare"
unshare -m --propagation private true 2>/dev/null || skip "unshare -m is not permitted"
command -v git >/dev/null 2>&1 || skip "no git"

work="$(mktemp -d /tmp/resnet-exp-clean-install-XXXXXX)"
git clone -q --no-local "$repo" "$work/clone" || { echo "clean-install-test: git clone failed" >&2; exit 1; }
git -C "$work/clone" checkout -q --detach "$(git rev-parse HEAD)"
echo "clean-install-test: fresh clone of $(git rev-parse --short HEAD) in $work/clone" >&2


WORK="$work" unshare -m --propagation private "$self" --inside </dev/null
status=$?

if [ "$status" -eq 0 ]; then
  echo "clean-install-test: passed" >&2
  rm -rf "$work"
elif [ "$status" -eq "$SKIP" ]; then
  rm -rf "$work"
  skip "mounting overlays or tmpfs in the namespace failed"
else
  echo "clean-install-test: kept $work for inspection" >&2
fi
exit "$status"
