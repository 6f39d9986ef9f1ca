/* registry.c: the explicit list of adapters and their check. */
#include "adapter.h"

#include <string.h>

extern const struct eb_adapter_ops eb_adapter_llamacpp;
extern const struct eb_adapter_ops eb_adapter_openai;
extern const struct eb_adapter_ops eb_adapter_ollama;
extern const struct eb_adapter_ops eb_adapter_exec;

const struct eb_adapter_ops *const eb_adapters[] = {
	&eb_adapter_llamacpp,
	&eb_adapter_openai,
	&eb_adapter_ollama,
	&eb_adapter_exec,
	NULL,
};

const struct eb_adapter_ops *eb_adapter_find(const char *name)
{
	for (size_t i = 0; eb_adapters[i]; i++)
		if (name && strcmp(eb_adapters[i]->name, name) == 0)
			return eb_adapters[i];
	return NULL;
}

int eb_adapter_check(const struct eb_adapter_ops *ops, struct eb_err *err)
{
	const char *name = ops && ops->name ? ops->name : "(unnamed)";

	if (!ops || !ops->name || !ops->help)
		return eb_err_set(err, EB_EINVAL, "adapter '%s': name and help are required", name);
	if (ops->abi != EB_ADAPTER_ABI)
		return eb_err_set(err, EB_EINVAL, "adapter '%s': abi %u, expected %u", name,
				  ops->abi, EB_ADAPTER_ABI);
	if (!ops->open || !ops->generate || !ops->close || !ops->options)
		return eb_err_set(err, EB_EINVAL,
				  "adapter '%s': open, generate, close and options are required",
				  name);
	if ((ops->caps & EB_CAP_TOKENIZE) && (!ops->tokenize || !ops->detokenize))
		return eb_err_set(err, EB_EINVAL,
				  "adapter '%s': EB_CAP_TOKENIZE needs tokenize and detokenize",
				  name);
	if ((ops->caps & EB_CAP_LOGLIK) && !ops->loglik)
		return eb_err_set(err, EB_EINVAL, "adapter '%s': EB_CAP_LOGLIK needs loglik", name);
	if ((ops->caps & EB_CAP_LOGITS) && !(ops->caps & EB_CAP_LOGLIK))
		return eb_err_set(err, EB_EINVAL, "adapter '%s': EB_CAP_LOGITS needs EB_CAP_LOGLIK",
				  name);
	if (eb_opt_table_check(ops->options, err) != 0)
		return eb_err_prefix(err, "adapter '%s'", name);
	return 0;
}

size_t eb_gen_text_add(struct eb_buf *text, size_t done, const char *s, size_t n)
{
	if (done >= EB_GEN_TEXT_MAX)
		return 0;
	if (n > EB_GEN_TEXT_MAX - done)
		n = EB_GEN_TEXT_MAX - done;
	return eb_buf_add(text, s, n) == 0 ? n : 0;
}
