/* registry.c: the explicit list of adapters, their check, and typed option getters. */
#include "adapter.h"

#include "eb_util.h"

#include <math.h>
#include <stdlib.h>
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
	for (const struct eb_opt *o = ops->options; o->name; o++) {
		if (!o->help)
			return eb_err_set(err, EB_EINVAL, "adapter '%s': option '%s' has no help",
					  name, o->name);
		for (const struct eb_opt *p = ops->options; p < o; p++)
			if (strcmp(p->name, o->name) == 0)
				return eb_err_set(err, EB_EINVAL,
						  "adapter '%s': option '%s' listed twice", name,
						  o->name);
	}
	return 0;
}

const struct eb_opt *eb_opt_find(const struct eb_opt *table, const char *name)
{
	for (const struct eb_opt *o = table; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static const json_t *eb_opt_value(const json_t *opts, const char *name)
{
	const json_t *v = opts ? json_object_get(opts, name) : NULL;

	return v && !json_is_null(v) ? v : NULL;
}

long long eb_opt_int(const json_t *opts, const struct eb_opt *table, const char *name,
		     long long fallback)
{
	const json_t *v = eb_opt_value(opts, name);
	const struct eb_opt *o = eb_opt_find(table, name);

	long long x;

	if (v && json_is_integer(v))
		return json_integer_value(v);
	if (v && json_is_real(v) && eb_double_to_ll(json_real_value(v), &x) == 0)
		return x;
	if (o && o->def)
		return strtoll(o->def, NULL, 10);
	return fallback;
}

double eb_opt_num(const json_t *opts, const struct eb_opt *table, const char *name,
		  double fallback)
{
	const json_t *v = eb_opt_value(opts, name);
	const struct eb_opt *o = eb_opt_find(table, name);

	if (v && json_is_number(v))
		return json_number_value(v);
	if (o && o->def)
		return strtod(o->def, NULL);
	return fallback;
}

int eb_opt_bool(const json_t *opts, const struct eb_opt *table, const char *name, int fallback)
{
	const json_t *v = eb_opt_value(opts, name);
	const struct eb_opt *o = eb_opt_find(table, name);

	if (v && json_is_boolean(v))
		return json_is_true(v);
	if (o && o->def)
		return strcmp(o->def, "true") == 0;
	return fallback;
}

const char *eb_opt_str(const json_t *opts, const struct eb_opt *table, const char *name,
		       const char *fallback)
{
	const json_t *v = eb_opt_value(opts, name);
	const struct eb_opt *o = eb_opt_find(table, name);

	if (v && json_is_string(v))
		return json_string_value(v);
	if (o && o->def)
		return o->def;
	return fallback;
}
