/* llamacpp.c: in-process llama.cpp adapter (placeholder until the real one lands). */
#include "adapter.h"

static const struct eb_opt eb_llamacpp_opts[] = { { NULL } };

static int eb_llamacpp_open(const struct eb_adapter_args *a, void **st, struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "llamacpp: not built");
}

static int eb_llamacpp_generate(void *st, const struct eb_gen_req *req, struct eb_gen_res *res,
				struct eb_err *err)
{
	return eb_err_set(err, EB_EUNSUPPORTED, "llamacpp: not built");
}

static void eb_llamacpp_close(void *st)
{
}

const struct eb_adapter_ops eb_adapter_llamacpp = {
	.name = "llamacpp",
	.abi = EB_ADAPTER_ABI,
	.options = eb_llamacpp_opts,
	.help = "llama.cpp in process",
	.open = eb_llamacpp_open,
	.generate = eb_llamacpp_generate,
	.close = eb_llamacpp_close,
};
