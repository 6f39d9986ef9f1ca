#!/bin/sh
# fake_drpai.sh: stands in for a Renesas DRP-AI app in check_exec (no shell tricks: argv only).
# Environment: EB_FAKE_MODE (ok|answer|fail|hang|signal), EB_ARGV_DIR (where argv is copied),
# EB_FIXTURE (the Renesas timing lines to print). Arguments: MAX_TOKENS PROMPT_FILE PROMPT...
set -u

if [ -n "${EB_ARGV_DIR:-}" ]; then
	printf '%s' "$$" > "$EB_ARGV_DIR/pid"
	i=0
	for a in "$@"; do
		i=$((i + 1))
		printf '%s' "$a" > "$EB_ARGV_DIR/arg$i"
	done
	printf '%s' "$i" > "$EB_ARGV_DIR/argc"
	if [ -f "${2:-}" ]; then
		cat "$2" > "$EB_ARGV_DIR/prompt_file"
	fi
fi

case "${EB_FAKE_MODE:-ok}" in
ok)
	n=${1:-5}
	echo "loading model" >&2
	k=0
	while [ "$k" -lt "$n" ]; do
		k=$((k + 1))
		sleep 0.05
		printf ' tok%d' "$k"
	done
	printf '\n'
	cat "$EB_FIXTURE"
	printf 'generated %d tokens\n' "$n"
	printf '{"tokens_per_s": 20.5, "n_generated": %d, "backend": "fake"}\n' "$n"
	;;
fail)
	for k in 1 2 3 4 5 6 7; do
		echo "err line $k" >&2
	done
	echo "partial output"
	exit 3
	;;
answer)
	# an accuracy item: a GSM8K prompt gets a worked number, any other a letter
	echo "loading model" >&2
	if grep -q '^Question: ' "$2"; then
		printf 'It takes 10 evenings.\n#### 10\n'
	else
		printf 'The answer is B\n'
	fi
	printf 'generated 4 tokens\n'
	;;
hang)
	echo "about to hang" >&2
	sleep 30
	;;
signal)
	echo "crashing" >&2
	kill -KILL $$
	;;
esac
exit 0
