#!/bin/sh
# fake_tokens.sh: a vendor program per request for load cells: N tokens, one a line, each
# after DELAY seconds, then its own count. Arguments: N DELAY. With EB_HANG_DIR set, the
# first run to make EB_HANG_DIR/hung writes its pid there and hangs instead, deaf to SIGTERM.
set -u

if [ -n "${EB_HANG_DIR:-}" ] && mkdir "$EB_HANG_DIR/hung" 2>/dev/null; then
	printf '%s' "$$" > "$EB_HANG_DIR/hung/pid"
	echo "hanging" >&2
	trap '' TERM
	exec sleep 30
fi
k=0
while [ "$k" -lt "$1" ]; do
	k=$((k + 1))
	sleep "$2"
	echo "tok$k"
done
echo "generated $k tokens"
