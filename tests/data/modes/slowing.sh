#!/bin/sh
# slowing.sh: the exec program of check_modes' sustained cell, a device heating up and
# settling: call N (counted in $EB_SUSTAIN_STATE/calls) prints MAX_TOKENS words
# GAP apart, GAP = 20 + 10 x min(N, 6) ms (decode 33 tok/s falling to 12.5), and sets
# the fixture's thermal zone ($EB_SUSTAIN_SYSFS) to 40 + 5 N C; then "generated N tokens".
set -u
n=$(cat "$EB_SUSTAIN_STATE/calls" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$EB_SUSTAIN_STATE/calls"
k=$n
if [ "$k" -gt 6 ]; then
	k=6
fi
gap=$(printf '0.%03d' $((20 + 10 * k)))
echo $((40000 + 5000 * n)) > "$EB_SUSTAIN_SYSFS/sys/class/thermal/thermal_zone0/temp"
i=0
while [ "$i" -lt "${1:-5}" ]; do
	if [ "$i" -gt 0 ]; then
		sleep "$gap"
	fi
	i=$((i + 1))
	printf ' tok%d' "$i"
done
printf '\n'
printf 'generated %d tokens\n' "$i"
