/* synth.h: writes GGUF models with random weights and a real tokenizer (llama.cpp only). */
#ifndef EB_SYNTH_H
#define EB_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eb_err.h"

/* A model shape named after a real model. */
struct eb_synth_shape {
	const char *name;          /* "tiny", "tinyllama-1.1b", "qwen2-1.5b", ... */
	const char *arch;          /* GGUF general.architecture: "llama" or "qwen2" */
	int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx_train;
	float rope_theta, norm_eps;
	const char *default_vocab; /* "llama-spm", "llama-bpe", "qwen2" */
	const char *help;          /* the real model it mirrors */
	int tied_embd;             /* 1: no output.weight, the output reuses token_embd */
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
	int quiet;                   /* 1: `progress` is never called */
	/*
	 * MAY be NULL. Called from the calling thread about once a second and at the end
	 * of each phase: phase "writing" counts bytes, "quantizing" counts tensors.
	 */
	void (*progress)(void *ud, const char *phase, uint64_t done, uint64_t total,
			 uint64_t elapsed_ns);
	void *progress_ud;
	/*
	 * MAY be NULL. Once *stop is non-zero the model is abandoned (temporaries removed,
	 * EB_EINTR returned): at once while writing, after llama.cpp returns when quantizing.
	 */
	volatile int *stop;
};

/*
 * Checks the options without writing anything: resolves the shape (named shape plus
 * overrides, or explicit dims), the vocab path and the type. On success fills *shape
 * (its name/arch/vocab pointers point into the table or into `o`) and, when `vocab`
 * is not NULL, the vocab path (vocab_n bytes). Fails with EB_EINVAL naming the bad
 * value (unknown shape or type, inconsistent dims), EB_ENOENT for an unknown vocab,
 * EB_EUNSUPPORTED without llama.cpp.
 */
int eb_synth_resolve(const struct eb_synth_opts *o, struct eb_synth_shape *shape, char *vocab,
		     size_t vocab_n, struct eb_err *err);

/*
 * Writes the model. Fails with a message naming the unknown shape/type/vocab, or the
 * file that could not be written; a partial output file is never left behind (the
 * output appears by rename only once complete; temporaries are removed on failure).
 */
int eb_synth_model(const struct eb_synth_opts *o, struct eb_err *err);

/*
 * Resolves a vocab name ("llama-spm" -> .../ggml-vocab-llama-spm.gguf) against
 * $EB_VOCAB_DIR, then the vocab directory installed with edgebench, else the llama.cpp
 * models/ directory found at build time; a value with a '/' or ending in .gguf is taken
 * as a path. Writes into buf; 0 or EB_ENOENT.
 */
int eb_synth_vocab_path(const char *vocab, char *buf, size_t n, struct eb_err *err);

/* Number of tokens in a vocab GGUF (tokenizer.ggml.tokens); EB_EIO/EB_EUNSUPPORTED. */
int eb_synth_vocab_size(const char *path, int64_t *n_vocab, struct eb_err *err);

/*
 * Parameters (tensor elements) of the model eb_synth_model writes for `shape` and a
 * vocab of n_vocab tokens; the same number llama_model_n_params reports for it.
 */
uint64_t eb_synth_n_params(const struct eb_synth_shape *shape, int64_t n_vocab);

/* Prints the shapes table (name, arch, dims, parameters, vocab) to f. */
void eb_synth_print_shapes(FILE *f);

/* Prints the accepted --type names, comma separated, wrapped at `width` columns. */
void eb_synth_print_types(FILE *f, int indent, int width);

#endif
