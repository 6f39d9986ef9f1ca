/* protocol.c: the accuracy protocol table (see protocol.h); each scorer lives in its proto_*.c. */
#include "protocol.h"
#include "accuracy_priv.h"

#include <string.h>

/*
 * The order is the order users see: in the schema's help for "protocol", in "unknown
 * protocol" errors and, per dataset, in `edgebench datasets list`.
 */
const struct eb_acc_protocol eb_acc_protocols[] = {
	{ "hellaswag", "acc, acc_norm (lm-evaluation-harness 0-shot)", "hellaswag",
	  eb_proto_hellaswag, { "file", "limit", "seqlen", "n_batch", "bos", NULL },
	  EB_CAP_LOGLIK, 0, "HellaSwag: the ending with the highest log-likelihood, four per item" },
	{ "wikitext2-gptq", "perplexity (GPTQ's get_wikitext2 + llama_eval)", "wikitext2",
	  eb_proto_wikitext_gptq, { "file", "member", "seqlen", "limit", "n_batch", NULL },
	  EB_CAP_LOGLIK, 0, "WikiText-2 test joined by blank lines, disjoint windows of seqlen" },
	{ "c4-gptq", "perplexity (GPTQ's get_c4 sampler)", "c4", eb_proto_c4_gptq,
	  { "file", "seqlen", "limit", "n_samples", "seed", "n_batch", NULL }, EB_CAP_LOGLIK, 0,
	  "C4 validation: n_samples windows drawn by Python's random with seed" },
	{ "c4-new", "perplexity (GPTQ's get_c4_new)", "c4", eb_proto_c4_new,
	  { "file", "seqlen", "limit", "n_samples", "n_batch", NULL }, EB_CAP_LOGLIK, 0,
	  "C4 validation: the first 1100 documents joined, the first n_samples windows" },
	{ "wikitext2-lmeval", "word/byte perplexity, bits per byte (lm-evaluation-harness)",
	  "wikitext2", eb_proto_lmeval, { "file", "member", "seqlen", "limit", "n_batch", NULL },
	  EB_CAP_LOGLIK, 0, "WikiText-2 test pages, rolling windows of seqlen per page" },
	{ "wikitext2-llamacpp", "perplexity (llama-perplexity)", "wikitext2", eb_proto_llamacpp,
	  { "file", "member", "n_ctx", "limit", "n_batch", NULL }, EB_CAP_LOGLIK, 0,
	  "WikiText-2 test in chunks of n_ctx, the second half of each scored" },
	{ "kld", "KL divergence from a reference variant (llama-perplexity --kl-divergence)",
	  "wikitext2", eb_proto_kld, { "file", "member", "n_ctx", "limit", "n_batch", NULL },
	  EB_CAP_LOGLIK | EB_CAP_LOGITS, 1,
	  "llama-perplexity's chunks, each variant's token distributions against the reference's" },
	{ "arc_easy", "acc, acc_norm (lm-evaluation-harness 0-shot arc_easy)", "arc",
	  eb_proto_arc_easy, { "file", "limit", "seqlen", "n_batch", "bos", NULL },
	  EB_CAP_LOGLIK, 0,
	  "ARC-Easy test: \"Question: Q\\nAnswer:\", each choice's text scored" },
	{ "arc_challenge", "acc, acc_norm (lm-evaluation-harness 0-shot arc_challenge)", "arc",
	  eb_proto_arc_challenge, { "file", "limit", "seqlen", "n_batch", "bos", NULL },
	  EB_CAP_LOGLIK, 0, "ARC-Challenge test, prompt and scoring as arc_easy" },
	{ "piqa", "acc, acc_norm (lm-evaluation-harness 0-shot piqa)", "piqa", eb_proto_piqa,
	  { "file", "limit", "seqlen", "n_batch", "bos", NULL }, EB_CAP_LOGLIK, 0,
	  "PIQA validation: \"Question: GOAL\\nAnswer:\", sol1 and sol2 scored" },
	{ "winogrande", "acc (lm-evaluation-harness 0-shot winogrande, partial scoring)",
	  "winogrande", eb_proto_winogrande,
	  { "file", "limit", "seqlen", "n_batch", "bos", NULL }, EB_CAP_LOGLIK, 0,
	  "Winogrande dev: the sentence up to the blank with each option, the rest scored" },
	{ "mmlu", "acc (lm-evaluation-harness 0-shot mmlu, log-likelihood of \" A\"..\" D\")",
	  "mmlu", eb_proto_mmlu, { "file", "limit", "seqlen", "n_batch", "bos", NULL },
	  EB_CAP_LOGLIK, 0, "MMLU test, 57 subjects: the question and lettered choices, the "
	  "letters scored" },
	{ "hellaswag-gen", "acc by generation: the letter of the chosen ending", "hellaswag",
	  eb_proto_hellaswag_gen, { "file", "limit", "max_tokens", NULL }, EB_CAP_TEXT, 0,
	  "HellaSwag's endings lettered A-D in the prompt, the reply's letter parsed" },
	{ "mmlu-gen", "acc by generation (lm-eval's mmlu prompt)", "mmlu", eb_proto_mmlu_gen,
	  { "file", "limit", "max_tokens", NULL }, EB_CAP_TEXT, 0,
	  "MMLU test as mmlu reads it, the reply's letter parsed" },
	{ "gsm8k-gen", "exact_match (lm-evaluation-harness gsm8k, 0-shot)", "gsm8k",
	  eb_proto_gsm8k_gen, { "file", "limit", "max_tokens", NULL }, EB_CAP_TEXT, 0,
	  "GSM8K test problems, the final number by lm-eval's strict and flexible filters" },
	{ NULL, NULL, NULL, NULL, { NULL }, 0, 0, NULL },
};

const struct eb_acc_protocol *eb_acc_protocol_find(const char *name)
{
	for (const struct eb_acc_protocol *p = eb_acc_protocols; name && p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

size_t eb_acc_protocol_names(struct eb_buf *b, const char *sep, const char *last,
			     const char *dataset)
{
	const char *names[32];
	size_t n = 0;

	for (const struct eb_acc_protocol *p = eb_acc_protocols; p->name && n < 32; p++)
		if (!dataset || (p->dataset && strcmp(p->dataset, dataset) == 0))
			names[n++] = p->name;
	for (size_t i = 0; i < n; i++)
		eb_buf_addf(b, "%s%s", i == 0 ? "" : i + 1 == n ? last : sep, names[i]);
	return n;
}

int eb_acc_protocol_supported(const struct eb_acc_protocol *p, const struct eb_adapter_ops *ops,
			      struct eb_err *err)
{
	unsigned need = p ? p->caps : EB_CAP_LOGLIK;

	if ((need & EB_CAP_LOGLIK) && (!(ops->caps & EB_CAP_LOGLIK) || !ops->loglik))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "adapter '%s' cannot score log-likelihoods (no loglik capability)",
				  ops->name);
	if ((need & EB_CAP_TEXT) && !(ops->caps & EB_CAP_TEXT))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "adapter '%s' cannot return generated text (no text capability)",
				  ops->name);
	if (p && (p->caps & EB_CAP_LOGITS) && !(ops->caps & EB_CAP_LOGITS))
		return eb_err_set(err, EB_EUNSUPPORTED,
				  "protocol %s needs full logits, which adapter '%s' does not return",
				  p->name, ops->name);
	return 0;
}
