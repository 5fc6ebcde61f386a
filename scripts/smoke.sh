#!/usr/bin/env bash
# smoke.sh builds the real binary and runs the window under Xvfb on its
# built-in sandbox for a few seconds. It fails when the app crashes, logs a
# Fyne threading error, panics, or never lists the sandbox's patients.
# SCREENSHOT=path.png also saves a picture of the screen.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -tags no_emoji -o "$work/ccexplorer" .

"$work/ccexplorer" --version

export CCEXPLORER_CONFIG_DIR="$work/config"
export CCEXPLORER_KEYRING_BACKEND=file CCEXPLORER_KEYRING_PASSWORD=smoke-test
export XDG_CONFIG_HOME="$work/xdg" HOME="$work/home" LANG=en_GB.UTF-8
mkdir -p "$HOME"
log="$work/app.log"
seconds=${SMOKE_SECONDS:-10}

xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
	"$1" >"$2" 2>&1 &
	pid=$!
	for _ in $(seq 1 "$3"); do
		sleep 1
		kill -0 "$pid" 2>/dev/null || { wait "$pid"; echo "exit status $?" >>"$2"; exit 1; }
	done
	[ -n "${SCREENSHOT:-}" ] && command -v import >/dev/null && import -window root "$SCREENSHOT" || true
	kill -TERM "$pid"
	wait "$pid" || true
' smoke "$work/ccexplorer" "$log" "$seconds" || { echo "smoke: the app exited early:"; cat "$log"; exit 1; }

echo "--- app log"
cat "$log"
echo "---"
fail=0
if grep -q "Error in Fyne call thread" "$log"; then echo "smoke: Fyne threading error"; fail=1; fi
if grep -qE "^panic:|fatal error:|DATA RACE" "$log"; then echo "smoke: the app crashed"; fail=1; fi
if ! grep -qE "search Patient: [1-9][0-9]* rows" "$log"; then echo "smoke: the patient list never appeared"; fail=1; fi
[ $fail = 0 ] && echo "smoke: ok (ran ${seconds}s under Xvfb, patients listed, no threading errors)"
exit $fail
