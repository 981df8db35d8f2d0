#!/usr/bin/env bash
# Smoke check of a built bundle: `--version`, then the window opens headless and closes itself, then a
# 2-step demo fine-tune runs inside the bundle (SMOKE_TRAIN=0 skips it; it needs the bundled model).
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
if [ "${SMOKE_TRAIN:-1}" != 0 ]; then
  echo "== 4. a 2-step headless demo fine-tune (torch, transformers, peft and checkpoints inside the bundle)"
  start=$(date +%s)
  if ADALORA_STUDIO_HOME="$WORK/studio-train" HF_HUB_OFFLINE=1 timeout "$TIMEOUT" \
      "$EXE" demo --max-steps 2 --output-dir "$WORK/runs" >"$WORK/train.log" 2>&1 \
      && ls "$WORK"/runs/*/adapter/adapter_config.json >/dev/null 2>&1; then
    echo "PASS (train): finished with an adapter in $(( $(date +%s) - start )) s"
  else
    echo "FAIL (train): the demo run did not finish with an adapter; output:" >&2
    tail -20 "$WORK/train.log" >&2
    exit 1
  fi
else
  echo "== 4. skipped (SMOKE_TRAIN=0)"
fi
echo "smoke check passed"
