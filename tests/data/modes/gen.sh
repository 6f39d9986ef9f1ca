#!/bin/sh
# gen.sh: the exec program of check_modes: prints MAX_TOKENS words at once, so a cell is
# quick; $EB_MODES_FAIL_IN names a nvpmodel mode (read from $EB_MODES_STATE) in which it fails.
set -u
if [ -n "${EB_MODES_FAIL_IN:-}" ] && [ "$(cat "$EB_MODES_STATE/nvpmodel" 2>/dev/null)" = "$EB_MODES_FAIL_IN" ]; then
	echo "gen.sh: failing as asked" >&2
	exit 3
fi
if [ -n "${EB_MODES_SLOW:-}" ]; then
	sleep "$EB_MODES_SLOW"
fi
n=${1:-4}
k=0
while [ "$k" -lt "$n" ]; do
	k=$((k + 1))
	printf ' tok%d' "$k"
done
printf '\n'
