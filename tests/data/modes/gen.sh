#!/bin/sh
# gen.sh: the exec program of check_modes: prints MAX_TOKENS words 10 ms apart (apart,
# so no token time is withheld as buffered output; quick, so a cell is);
# $EB_MODES_FAIL_IN names a nvpmodel mode (read from $EB_MODES_STATE) in which it fails.
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
	if [ "$k" -gt 0 ]; then
		sleep 0.01
	fi
	k=$((k + 1))
	printf ' tok%d' "$k"
done
printf '\n'
