/* synth.h: writes GGUF models with random weights and a real tokenizer (llama.cpp only). */
#ifndef EB_SYNTH_H
#define EB_SYNTH_H

#include <stdint.h>
#include <stdio.h>

#include "../harness/eb_err.h"

/* A model shape named after a real model. */
struct eb_synth_shape {
	const char *name;          /* "tiny", "tinyllama-1.1b", "qwen2-1.5b", ... */
	const char *arch;          /* GGUF general.architecture: "llama" or "qwen2" */
	int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx_train;
	float rope_theta, norm_eps;
	const char *default_vocab; /* "llama-spm", "llama-bpe", "qwen2" */
	const char *help;
};

/* The named shapes, terminated by an entry whose name is NULL. */
extern const struct eb_synth_shape eb_synth_shapes[];

/* Finds a named shape; NULL when unknown. */
const struct eb_synth_shape *eb_synth_shape_find(const char *name);

struct eb_synth_opts {
	const char *shape;           /* a named shape, or NULL: then `dims` gives every field */
	struct eb_synth_shape dims;  /* non-zero fields override the named shape */
	const char *vocab;           /* a vocab name, a path to a vocab-only GGUF, or NULL */
	const char *type;            /* llama-quantize's names: f32, f16, q8_0, q4_0, q4_k_m, ... */
	const char *out;             /* output path; written atomically (temp + rename) */
	uint64_t seed;
	int threads;                 /* for quantizing; <= 0: all cores */
	int quiet;
};

/*
 * Writes the model. Fails with a message naming the unknown shape/type/vocab, or the
 * file that could not be written; a partial output file is never left behind.
 */
int eb_synth_model(const struct eb_synth_opts *o, struct eb_err *err);

/*
 * Resolves a vocab name ("llama-spm" -> .../ggml-vocab-llama-spm.gguf) against
 * $EB_VOCAB_DIR, then the llama.cpp models/ directory found at build time; a value with
 * a '/' or ending in .gguf is taken as a path. Writes into buf; 0 or EB_ENOENT.
 */
int eb_synth_vocab_path(const char *vocab, char *buf, size_t n, struct eb_err *err);

/* Prints the shapes table (name, arch, dims, parameters, vocab) to f. */
void eb_synth_print_shapes(FILE *f);

#endif
