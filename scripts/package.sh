#!/usr/bin/env bash
# package.sh builds the release packages into dist/:
#
#   dist/ccexplorer-<version>-linux-amd64.tar.xz   fyne package: the binary, a
#       .desktop file, the icon and a Makefile (make install / user-install)
#   dist/ccexplorer-<version>-windows-amd64.exe    one double-clickable file for
#       the GUI subsystem, with the icon, version info and manifest embedded,
#       cross-compiled with Debian's mingw-w64 gcc (cgo)
#   dist/SHA256SUMS
#
# Usage: scripts/package.sh [linux|windows|all]    (default: all)
#
# <version> is Details.Version in FyneApp.toml. Both builds go through
# `fyne package --release` (fyne.io/tools, pinned in scripts/tools.mod), which
# builds with -trimpath, -ldflags "-s -w" and the tags release and
# migrated_fynedo (from FyneApp.toml's [Migrations]); the -X flags for
# cli.Version and cli.Commit reach it through GOFLAGS, which fyne turns into
# -ldflags. The build runs in a temporary copy of the source, because fyne
# package writes into the source directory (a metadata .go file, fyne.syso, the
# executable) and bumps Details.Build in FyneApp.toml.
#
# Installs the Debian packages it needs when they are missing (with sudo when
# not root): Fyne's cgo headers, xz-utils, and gcc-mingw-w64-x86-64 for Windows.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

target="${1:-all}"
case "$target" in
linux | windows | all) ;;
*)
	echo "usage: scripts/package.sh [linux|windows|all]" >&2
	exit 2
	;;
esac

module="github.com/careconnectexplorer/ccexplorer"
arch="amd64"

# toml_details KEY prints KEY's value from FyneApp.toml's [Details] table.
toml_details() {
	awk -v key="$1" '
		/^\[/ { in_details = ($0 ~ /^\[Details\][[:space:]]*$/); next }
		in_details && $1 == key {
			sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]*(#.*)?$/, ""); gsub(/"/, "")
			print; exit
		}' FyneApp.toml
}

version="$(toml_details Version)"
if [[ ! "$version" =~ ^[0-9]+(\.[0-9]+){0,2}$ ]]; then
	echo "package.sh: FyneApp.toml's [Details] Version is \"$version\"; want x.y.z" >&2
	exit 1
fi
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ "$commit" != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
	commit="$commit-dirty"
fi

# ensure_debs PKG... installs the Debian packages that are missing.
ensure_debs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	if ! command -v apt-get >/dev/null; then
		echo "package.sh: missing ${missing[*]}, and this is not a Debian/Ubuntu machine; install the equivalents by hand." >&2
		exit 1
	fi
	local sudo=()
	[[ $(id -u) -ne 0 ]] && sudo=(sudo)
	echo "package.sh: installing ${missing[*]}" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

scripts/deps.sh # gcc, pkg-config and Fyne's OpenGL/X11 headers
debs=(tar xz-utils)
[[ "$target" != linux ]] && debs+=(gcc-mingw-w64-x86-64)
ensure_debs "${debs[@]}"

stage="$(mktemp -d "${TMPDIR:-/tmp}/ccexplorer-package.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

# The pinned packaging tool, built from scripts/tools.mod so that its own
# dependencies (a newer Fyne among them) stay out of the app's go.mod.
go build -modfile=scripts/tools.mod -o "$stage/fyne" fyne.io/tools/cmd/fyne

# copy_source DIR copies the source tree, without .git, dist/ and build output.
copy_source() {
	mkdir -p "$1"
	tar -C "$root" \
		--exclude=./.git --exclude=./dist --exclude=./ccexplorer --exclude=./ccexplorer.exe \
		--exclude='*.test' --exclude=testdata/failed \
		-cf - . | tar -C "$1" -xf -
}

# fyne_package DIR OS [FLAG...] runs fyne package in DIR with the release
# flags.
fyne_package() {
	local dir="$1" os="$2"
	shift 2
	(
		cd "$dir"
		export GOFLAGS="-ldflags=-X=$module/cli.Version=$version -ldflags=-X=$module/cli.Commit=$commit"
		# no_emoji: leave out Fyne's 4 MB colour emoji font, 31 MiB of idle
		# memory (docs/PERFORMANCE.md); the few symbols the UI uses come
		# from the text font or the system's.
		"$stage/fyne" package --os "$os" --release --tags no_emoji "$@"
	)
}

mkdir -p dist

if [[ "$target" == linux || "$target" == all ]]; then
	echo "== linux/$arch: fyne package (version $version, commit $commit)"
	src="$stage/linux"
	copy_source "$src"
	GOARCH="$arch" fyne_package "$src" linux
	shopt -s nullglob
	archives=("$src"/*.tar.xz)
	shopt -u nullglob
	if ((${#archives[@]} != 1)); then
		echo "package.sh: fyne package made ${#archives[@]} .tar.xz archives, want 1" >&2
		exit 1
	fi
	out="dist/ccexplorer-$version-linux-$arch.tar.xz"
	mv "${archives[0]}" "$out"
	echo "wrote $out"
fi

if [[ "$target" == windows || "$target" == all ]]; then
	echo "== windows/$arch: fyne package with mingw-w64 (version $version, commit $commit)"
	src="$stage/windows"
	copy_source "$src"
	# For Windows, fyne package builds the executable, writes fyne.syso (icon,
	# version info, manifest) and builds it again; the first build takes the
	# -ldflags out of GOFLAGS, so the second, the one that ships, would lack
	# the -X flags. An empty file in place of the executable, named with
	# --exe, makes it skip the first build; the second overwrites the file.
	: >"$src/ccexplorer.exe"
	CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ CGO_ENABLED=1 GOARCH="$arch" \
		fyne_package "$src" windows --exe "$src/ccexplorer.exe"
	# fyne names the result after Details.Name, "Care Connect Explorer.exe".
	shopt -s nullglob
	exes=("$src"/*.exe)
	shopt -u nullglob
	if ((${#exes[@]} != 1)); then
		echo "package.sh: fyne package left ${#exes[@]} .exe files, want 1: ${exes[*]}" >&2
		exit 1
	fi
	out="dist/ccexplorer-$version-windows-$arch.exe"
	mv "${exes[0]}" "$out"
	echo "wrote $out"
fi

(
	cd dist
	shopt -s nullglob
	files=(ccexplorer-*-linux-*.tar.xz ccexplorer-*-windows-*.exe)
	((${#files[@]} > 0)) && sha256sum "${files[@]}" >SHA256SUMS
)
ls -l dist
