#!/usr/bin/env bash
# Smoke check of a built bundle: `--version`, then the window opens headless and closes itself.
#
#   packaging/smoke_check.sh [dist/adalora-studio]
#
# Step 2 runs offscreen (always possible); step 3 runs the same under Xvfb when xvfb-run is installed, the
# way a desktop session starts it. Each launch uses a throw-away home folder. Exit code 0 means all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE="${1:-dist/adalora-studio}"
EXE="$BUNDLE/adalora-studio"
TIMEOUT="${SMOKE_TIMEOUT:-180}"
[ -x "$EXE" ] || { echo "error: $EXE not found; build it first with packaging/build_linux.sh" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== 1. $EXE --version"
version="$("$EXE" --version)"
echo "$version"
[[ "$version" == adalora-studio\ * ]] || { echo "FAIL: unexpected --version output" >&2; exit 1; }

launch() {  # $1: label; rest: command prefix (e.g. xvfb-run -a)
  local label="$1"; shift
  local start; start=$(date +%s)
  HOME="$WORK/home-$label" ADALORA_STUDIO_HOME="$WORK/studio-$label" ADALORA_STUDIO_EXIT_AFTER_SHOWN=1 \
    timeout "$TIMEOUT" "$@" "$EXE" >"$WORK/$label.log" 2>&1 || true
  if grep -q "window-shown" "$WORK/$label.log"; then
    echo "PASS ($label): $(grep -m1 window-shown "$WORK/$label.log") after $(( $(date +%s) - start )) s"
  else
    echo "FAIL ($label): no 'window-shown' line within $TIMEOUT s; output:" >&2
    tail -40 "$WORK/$label.log" >&2
    exit 1
  fi
}

echo "== 2. window offscreen (QT_QPA_PLATFORM=offscreen)"
launch offscreen env QT_QPA_PLATFORM=offscreen
if command -v xvfb-run >/dev/null; then
  echo "== 3. window under Xvfb (xcb platform)"
  launch xvfb env -u QT_QPA_PLATFORM xvfb-run -a -s "-screen 0 1280x800x24"
else
  echo "== 3. skipped: xvfb-run is not installed (apt-get install -y xvfb)"
fi
echo "smoke check passed"
