#!/bin/sh
# synth_models.sh: synthesizes (or reuses) the tiny models the "models" tests load.
# usage: synth_models.sh EDGEBENCH_BIN OUTDIR
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 EDGEBENCH_BIN OUTDIR" >&2
	exit 2
fi
bin=$1
outdir=$2

mkdir -p "$outdir"
for type in f16 q8_0 q4_0; do
	"$bin" model synth --shape tiny --seed 1 --type "$type" --threads 2 \
		-o "$outdir/tiny-$type.gguf" --quiet
done
