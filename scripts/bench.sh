#!/usr/bin/env bash
# bench.sh measures Care Connect Explorer's performance figures against
# their baselines and budgets (docs/PERFORMANCE.md) and prints a table. It
# exits non-zero when a figure is over budget or could not be measured.
#
# It installs what it needs when missing (Fyne's cgo headers, Xvfb, xauth;
# with sudo when not root), builds the app and a bare Fyne hello-world with
# the same flags, tags and toolchain (those of the release build:
# -trimpath -ldflags "-s -w" -tags release,migrated_fynedo,no_emoji), the
# hello-world again linked with all of the app's packages (-tags linked, for
# a note beside figure 1), the harness and the ui package's test binary, and
# runs the harness under Xvfb. Arguments go to the harness (bench/cmd/benchharness), for example
#
#   scripts/bench.sh -only rows,table     # some figures only
#   scripts/bench.sh -runs 9              # more launches for start-up
#
# Environment:
#   PROFILE=dir   also write CPU (and heap) profiles of every figure to dir,
#                 with a start-up profile from bench/cmd/startprof and the
#                 package initialisation trace (GODEBUG=inittrace=1)
#   BENCH_JSON=f  also write the results as JSON to f
#   BENCH_TAGS=t  build tags for both binaries (default release,migrated_fynedo,no_emoji,
#                 as the packages are built)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --display

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tags=${BENCH_TAGS-release,migrated_fynedo,no_emoji}
flags=(-trimpath -ldflags "-s -w" -tags "$tags")
echo "bench: building (go build ${flags[*]})" >&2
go build "${flags[@]}" -o "$work/ccexplorer" .
go build "${flags[@]}" -o "$work/hello" ./bench/hello
go build -trimpath -ldflags "-s -w" -tags "$tags,linked" -o "$work/hello-linked" ./bench/hello
go build -o "$work/benchharness" ./bench/cmd/benchharness
args=(-app "$work/ccexplorer" -hello "$work/hello" -hello-linked "$work/hello-linked")
if go test -c -o "$work/ui.test" ./ui; then
	args+=(-uitest "$work/ui.test")
else
	echo "bench: the ui package's tests do not build; figure 4 will be reported as an error" >&2
fi
if [[ -n "${PROFILE:-}" ]]; then
	mkdir -p "$PROFILE"
	PROFILE=$(cd "$PROFILE" && pwd)
	args+=(-profile "$PROFILE")
fi
[[ -n "${BENCH_JSON:-}" ]] && args+=(-json "$BENCH_JSON")

export LANG=en_GB.UTF-8
status=0
xvfb-run -a -s "-screen 0 1920x1080x24" "$work/benchharness" "${args[@]}" "$@" || status=$?

if [[ -n "${PROFILE:-}" ]]; then
	echo "bench: profiling start-up (bench/cmd/startprof)" >&2
	go build -trimpath -tags "$tags" -o "$work/startprof" ./bench/cmd/startprof
	home="$work/startprof-home"
	mkdir -p "$home/home"
	GODEBUG=inittrace=1 "$work/ccexplorer" --version 2>"$PROFILE/inittrace.txt" >/dev/null || true
	HOME="$home/home" XDG_CONFIG_HOME="$home/xdg" XDG_CACHE_HOME="$home/cache" \
		CCEXPLORER_CONFIG_DIR="$home/config" CCEXPLORER_KEYRING_BACKEND=memory \
		xvfb-run -a -s "-screen 0 1920x1080x24" "$work/startprof" \
		-cpuprofile "$PROFILE/start.cpu.prof" -memprofile "$PROFILE/idle.heap.prof" 2>"$PROFILE/startprof.txt" || true
	grep '^startprof:' "$PROFILE/startprof.txt" >&2 || true
	echo "bench: profiles in $PROFILE (go tool pprof -top $PROFILE/<figure>.cpu.prof; -tagfocus side=client|server for fetchall and sandbox)" >&2
fi
exit $status
