#!/usr/bin/env bash
# Build the one-folder Linux bundle with PyInstaller, plus its .desktop file and icon.
#
#   packaging/build_linux.sh            # uses .venv/bin/python (must have pyinstaller: pip install -e ".[packaging]")
#   PYTHON=/tmp/pyi-venv/bin/python packaging/build_linux.sh
#
# Output:
#   dist/adalora-studio/adalora-studio           the executable (run it, or `... install-desktop` for a menu entry)
#   dist/adalora-studio/adalora-studio.desktop   menu entry whose Exec is this bundle's absolute path
#   dist/adalora-studio/adalora-studio.svg/.png  the icon
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
DIST="${DIST:-dist}"
BUILD_DIR="${BUILD_DIR:-build/pyinstaller}"
BUNDLE="$DIST/adalora-studio"

"$PYTHON" -c "import PyInstaller" 2>/dev/null || {
  echo "error: PyInstaller is not installed for $PYTHON; run: $PYTHON -m pip install 'pyinstaller>=6'" >&2
  exit 2
}
start=$(date +%s)
CLEAN_FLAG=--clean
[ "${CLEAN:-1}" = 0 ] && CLEAN_FLAG=""   # CLEAN=0 reuses build/ caches from the last build (faster rebuilds)
"$PYTHON" -m PyInstaller --noconfirm $CLEAN_FLAG --log-level WARN \
  --distpath "$DIST" --workpath "$BUILD_DIR" packaging/adalora_studio.spec

# The menu entry and icon beside the executable. Exec is the absolute path at build time; after moving the
# folder, run `<folder>/adalora-studio install-desktop` to write a per-user entry for the new place.
EXE="$(cd "$BUNDLE" && pwd)/adalora-studio"
PYTHONPATH=. "$PYTHON" - "$EXE" "$BUNDLE/adalora-studio.desktop" <<'PY'
import sys
from pathlib import Path
from adalora_studio.app.desktop import render_desktop_entry
Path(sys.argv[2]).write_text(render_desktop_entry([sys.argv[1]]), encoding="utf-8")
PY
cp resources/icons/adalora-studio.svg "$BUNDLE/adalora-studio.svg"
cp resources/icons/adalora-studio-256.png "$BUNDLE/adalora-studio.png"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$BUNDLE/adalora-studio.desktop"; fi

echo "built $BUNDLE in $(( $(date +%s) - start )) s ($(du -sh "$BUNDLE" | cut -f1)); smoke check: packaging/smoke_check.sh"
