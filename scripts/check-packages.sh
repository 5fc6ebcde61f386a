#!/usr/bin/env bash
# check-packages.sh checks the packages that scripts/package.sh wrote to dist/,
# the way CI does after `make package`:
#
#   Linux:   the archive installs with its own Makefile into a temporary
#            prefix; the installed binary answers --version with FyneApp.toml's
#            version and this checkout's commit; the .desktop file and the icon
#            are installed; the binary is stripped and was built with -trimpath
#            and the migrated_fynedo tag.
#   Windows: the .exe is a PE32+ x86-64 executable for the GUI subsystem with
#            an icon group, icons and a version resource of the same version
#            (scripts/pecheck), built with -trimpath and migrated_fynedo, and
#            stamped with this checkout's commit.
#
# Usage: scripts/check-packages.sh [linux|windows|all]    (default: all)
# Installs make, xz-utils and file when missing (with sudo when not root).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

target="${1:-all}"
case "$target" in
linux | windows | all) ;;
*)
	echo "usage: scripts/check-packages.sh [linux|windows|all]" >&2
	exit 2
	;;
esac

app_id="org.careconnectexplorer.ccexplorer"
arch="amd64"
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() { echo "ok:   $*"; }

toml_details() {
	awk -v key="$1" '
		/^\[/ { in_details = ($0 ~ /^\[Details\][[:space:]]*$/); next }
		in_details && $1 == key {
			sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]*(#.*)?$/, ""); gsub(/"/, "")
			print; exit
		}' FyneApp.toml
}
version="$(toml_details Version)"
[[ -n "$version" ]] || {
	echo "check-packages.sh: no [Details] Version in FyneApp.toml" >&2
	exit 1
}

# The packages should carry the commit they were built from (package.sh
# stamps `git rev-parse --short=12 HEAD`, plus -dirty for a modified tree).
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || true)"

missing=()
for p in make xz-utils file; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
	sudo=()
	[[ $(id -u) -ne 0 ]] && sudo=(sudo)
	echo "check-packages.sh: installing ${missing[*]}" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ccexplorer-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# check_build_info BINARY checks the Go build settings recorded in BINARY.
check_build_info() {
	local bin="$1" info
	if ! info="$(go version -m "$bin" 2>&1)"; then
		fail "$bin: go version -m cannot read its build info: $info"
		return
	fi
	if grep -Eq '^[[:space:]]+build[[:space:]]+-trimpath=true$' <<<"$info"; then
		ok "built with -trimpath"
	else
		fail "$bin was not built with -trimpath"
	fi
	if grep -Eq '^[[:space:]]+build[[:space:]]+-tags=.*\bmigrated_fynedo\b' <<<"$info"; then
		ok "built with the migrated_fynedo tag"
	else
		fail "$bin was not built with -tags migrated_fynedo"
	fi
}

if [[ "$target" == linux || "$target" == all ]]; then
	archive="dist/ccexplorer-$version-linux-$arch.tar.xz"
	echo "== $archive"
	if [[ ! -f "$archive" ]]; then
		fail "$archive is missing; run scripts/package.sh linux first"
	else
		mkdir -p "$tmp/unpacked" "$tmp/prefix"
		tar -C "$tmp/unpacked" -xJf "$archive"
		makefile="$(find "$tmp/unpacked" -maxdepth 2 -name Makefile -print -quit)"
		if [[ -z "$makefile" ]]; then
			fail "$archive has no Makefile to install it with"
		else
			ok "unpacked; Makefile at ${makefile#"$tmp/unpacked/"}"
			prefix="$tmp/prefix"
			if make -s -C "$(dirname "$makefile")" install PREFIX="$prefix" >"$tmp/install.log" 2>&1; then
				ok "make install PREFIX=<temporary directory>"
			else
				fail "make install PREFIX=$prefix failed: $(cat "$tmp/install.log")"
			fi
			bin="$prefix/bin/ccexplorer"
			desktop="$prefix/share/applications/$app_id.desktop"
			icon="$prefix/share/pixmaps/$app_id.png"
			if [[ -x "$bin" ]]; then
				ok "installed bin/ccexplorer"
				if out="$("$bin" --version 2>"$tmp/stderr")"; then
					if [[ "$out" == "ccexplorer $version (commit $commit"*")" ]]; then
						ok "bin/ccexplorer --version: $out"
					else
						fail "bin/ccexplorer --version printed \"$out\", want \"ccexplorer $version (commit ${commit:-...})\" (is dist/ stale? rebuild with scripts/package.sh)"
					fi
				else
					fail "bin/ccexplorer --version exited non-zero: $out $(cat "$tmp/stderr")"
				fi
				if file -b "$bin" | grep -q 'ELF 64-bit.*x86-64.*, stripped'; then
					ok "bin/ccexplorer is a stripped x86-64 ELF executable"
				else
					fail "bin/ccexplorer is not a stripped x86-64 ELF: $(file -b "$bin")"
				fi
				check_build_info "$bin"
			else
				fail "make install put no executable at bin/ccexplorer"
			fi
			if [[ -f "$desktop" ]]; then
				ok "installed share/applications/$app_id.desktop"
				for line in "Type=Application" "Name=Care Connect Explorer" "Exec=ccexplorer" "Icon=$app_id"; do
					grep -qxF "$line" "$desktop" || fail "$app_id.desktop lacks the line $line"
				done
				grep -q '^Categories=.*Development' "$desktop" || fail "$app_id.desktop lacks Categories"
				grep -q '^Keywords=.*FHIR' "$desktop" || fail "$app_id.desktop lacks Keywords"
			else
				fail "make install put no .desktop file at share/applications/$app_id.desktop"
			fi
			if [[ -f "$icon" ]] && file -b "$icon" | grep -q '^PNG image data, 512 x 512'; then
				ok "installed share/pixmaps/$app_id.png (512x512 PNG)"
			else
				fail "no 512x512 PNG icon at share/pixmaps/$app_id.png ($(file -b "$icon" 2>&1))"
			fi
		fi
	fi
fi

if [[ "$target" == windows || "$target" == all ]]; then
	exe="dist/ccexplorer-$version-windows-$arch.exe"
	echo "== $exe"
	if [[ ! -f "$exe" ]]; then
		fail "$exe is missing; run scripts/package.sh windows first"
	else
		if file -b "$exe" | grep -q '^PE32+ executable (GUI) x86-64'; then
			ok "file: $(file -b "$exe")"
		else
			fail "$exe is not a PE32+ x86-64 GUI executable: $(file -b "$exe")"
		fi
		if go run ./scripts/pecheck -version "$version" "$exe"; then
			ok "pecheck"
		else
			fail "pecheck found problems in $exe (above)"
		fi
		check_build_info "$exe"
		# The Windows binary cannot run here; the commit string in it shows
		# that the -X flags (version and commit) reached the final link.
		if [[ -z "$commit" ]]; then
			echo "note: not a git checkout, so the commit stamp in $exe is not checked"
		elif grep -qaF "$commit" "$exe"; then
			ok "stamped with commit $commit"
		else
			fail "$exe does not contain the commit $commit: the -ldflags -X flags were lost, or dist/ is stale"
		fi
	fi
fi

if ((failures > 0)); then
	echo "check-packages.sh: $failures check(s) failed" >&2
	exit 1
fi
echo "check-packages.sh: all checks passed"
