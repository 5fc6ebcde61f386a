#!/usr/bin/env bash
# deps.sh installs the Debian packages that building the window needs (cgo
# headers for OpenGL and X11) and, with --display, Xvfb for headless runs.
# It does nothing when they are already there.
set -euo pipefail

pkgs=(gcc pkg-config libgl1-mesa-dev xorg-dev)
[[ "${1:-}" == "--display" ]] && pkgs+=(xvfb xauth)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if ! command -v apt-get >/dev/null; then
	echo "deps.sh: missing ${missing[*]}, and this is not a Debian/Ubuntu machine; install the equivalents by hand (see README.md)." >&2
	exit 1
fi
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "deps.sh: installing ${missing[*]}" >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
