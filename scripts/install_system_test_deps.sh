#!/usr/bin/env bash
# System packages the end-to-end desktop tests need (Debian/Ubuntu): a virtual X server, xdotool, the desktop-file
# validator, and the X libraries Qt's xcb plugin loads. Installs only what is missing, and only where apt-get can run
# (as root or with passwordless sudo); otherwise it says what to install and those tests skip (they fail under CI=true).
set -u
PACKAGES="desktop-file-utils xvfb xauth xdotool libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 \
libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3"

command -v dpkg-query >/dev/null 2>&1 || { echo "system test deps: not a Debian-like system; skipping"; exit 0; }
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "system test deps missing:$missing"
  echo "install them with: sudo apt-get install -y$missing   (the desktop end-to-end tests skip until then)"
  exit 0
fi
echo "installing system test deps:$missing"
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
