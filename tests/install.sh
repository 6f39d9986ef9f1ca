#!/bin/sh
# install.sh: `cmake --install` into a temporary prefix, which then moves, gives an edgebench
# that runs from there: `version`, its man page, every rpath relative to the prefix, the
# llama.cpp libraries and the vocab GGUFs it uses taken from the prefix.
# usage: install.sh BUILD_DIR WORK_DIR      ($CMAKE: the cmake to run; ctest sets it)
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR WORK_DIR" >&2
	exit 2
fi
build=$1
work=$2
fail() {
	echo "install: $*" >&2
	exit 1
}

rm -rf "$work"
mkdir -p "$work"
"${CMAKE:-cmake}" --install "$build" --prefix "$work/installed" >"$work/install.log" ||
	fail "cmake --install failed: $(tail -5 "$work/install.log")"
# the prefix moves: nothing may depend on where it was installed
mv "$work/installed" "$work/moved"
p=$work/moved

out=$("$p/bin/edgebench" version) || fail "'edgebench version' exited with $?: $out"
echo "$out" | grep -q '^edgebench [0-9][0-9.]* (' || fail "'edgebench version' printed: $out"
echo "$out"

man=$(MANPATH="$p/share/man" man -w edgebench) || fail "man -w edgebench: no page under $p"
[ "$man" = "$p/share/man/man1/edgebench.1" ] || fail "man -w edgebench found '$man'"
MANPAGER=cat MANWIDTH=80 man -l "$man" 2>"$work/man.err" >"$work/man.txt" ||
	fail "man -l $man: $(cat "$work/man.err")"
grep -q '^SYNOPSIS' "$work/man.txt" || fail "the man page has no SYNOPSIS: $(head -5 "$work/man.txt")"
grep -q 'edgebench' "$work/man.txt" || fail "the man page does not name edgebench"

# every rpath of every program and library under the prefix is relative to it
for f in $(find "$p" -type f); do
	head -c 4 "$f" | grep -q 'ELF' || continue
	bad=$(readelf -d "$f" | grep -E '\((RPATH|RUNPATH)\)' | grep -v '\[\$ORIGIN[^:]*\]$' || true)
	[ -z "$bad" ] || fail "$f: rpath outside the prefix: $bad"
	# and every llama.cpp library it loads comes from the prefix
	bad=$(ldd "$f" | grep -E 'lib(llama|ggml)' | grep -v "=> $p/" || true)
	[ -z "$bad" ] || fail "$f: llama.cpp libraries from outside the prefix: $bad"
done

# with llama.cpp built in, model synth finds the installed vocab GGUFs
if echo "$out" | grep -q '^  llamacpp   llama\.cpp'; then
	"$p/bin/edgebench" model synth --shape tiny --type q4_0 --threads 2 \
		-o "$work/tiny.gguf" 2>"$work/synth.log" ||
		fail "model synth from the prefix: $(cat "$work/synth.log")"
	grep -q "vocab '$p/bin/[^']*/share/edgebench/vocab/" "$work/synth.log" ||
		fail "model synth did not take the installed vocab: $(cat "$work/synth.log")"
fi
# llama.cpp from a build tree is installed with it, peer tools included (their libraries
# were checked above)
if [ -d "$p/lib/edgebench" ]; then
	for peer in llama-bench llama-perplexity; do
		[ -x "$p/libexec/edgebench/$peer" ] || fail "no $peer under $p/libexec/edgebench"
	done
fi
echo "install: ok ($p)"
