#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the non-GUI packages for a bounded time,
# the way CI does: each target starts from its committed seed corpus
# (<pkg>/testdata/fuzz/<FuzzName>/) and must find no panic, hang or failure.
#
# Usage: scripts/fuzz.sh [seconds-per-target]     (default: 15)
#
# Targets are found by looking for `func Fuzz...(f *testing.F)` in the
# packages' _test.go files, so a new target is picked up without editing
# this script. ui/ and cli/ are left out (they need a display, and have no
# decoders of their own). A failing input is written by `go test` to
# <pkg>/testdata/fuzz/<FuzzName>/; commit it with the fix as a regression
# seed.
#
# Environment: FUZZ_PACKAGES overrides the package list (space-separated,
# e.g. "auth fhirclient"); FUZZ_PARALLEL sets -parallel (default: the
# number of CPUs go uses).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${1:-15}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
	echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2
	exit 2
fi
read -r -a packages <<<"${FUZZ_PACKAGES:-auth fhirclient profile connect sandbox}"
parallel=()
[[ -n "${FUZZ_PARALLEL:-}" ]] && parallel=(-parallel "$FUZZ_PARALLEL")

targets=()
for pkg in "${packages[@]}"; do
	[[ -d "$pkg" ]] || continue
	while IFS= read -r name; do
		targets+=("$pkg:$name")
	done < <(grep -ho '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$pkg"/*_test.go 2>/dev/null |
		sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' | sort -u)
done
if ((${#targets[@]} == 0)); then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

echo "fuzz.sh: ${#targets[@]} targets × ${seconds}s ≈ $((${#targets[@]} * seconds))s of fuzzing (plus builds)"
failed=()
for t in "${targets[@]}"; do
	pkg="${t%%:*}"
	name="${t#*:}"
	echo "== $pkg $name (${seconds}s)"
	corpus="$pkg/testdata/fuzz/$name"
	before=$(ls "$corpus" 2>/dev/null | sort || true) # a target may have no corpus folder yet
	log=$(mktemp)
	# -run '^$' skips the ordinary tests; the seed corpus still runs first.
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "${seconds}s" "${parallel[@]}" "./$pkg" 2>&1 | tee "$log"; then
		rm -f "$log"
		continue
	fi
	after=$(ls "$corpus" 2>/dev/null | sort || true)
	# Go 1.26's fuzz coordinator can report "context deadline exceeded" when
	# -fuzztime ends while a worker is mid-input (golang/go#75804, fixed in
	# Go 1.27). That failure writes no failing input; a real one always does.
	if [[ "$before" == "$after" ]] && grep -q "context deadline exceeded" "$log"; then
		echo "fuzz.sh: $pkg $name stopped with Go's fuzztime race (golang/go#75804) and wrote no failing input: not a failure"
	else
		failed+=("$pkg $name")
	fi
	rm -f "$log"
done

if ((${#failed[@]} > 0)); then
	echo "fuzz.sh: FAILED: ${failed[*]}" >&2
	echo "fuzz.sh: the failing inputs are in <pkg>/testdata/fuzz/<FuzzName>/" >&2
	exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets passed"
