/* proto_hellaswag.c: protocol hellaswag: lm-eval's 0-shot HellaSwag, four endings per item. */
#include "accuracy_priv.h"

#include "eb_util.h"

#include <stdlib.h>

/*
 * lm-eval's multiple_choice scoring (proto_mc.c) of rowanz's items: one context, the
 * four endings as continuations, acc and acc_norm (the headline).
 */
int eb_proto_hellaswag(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
		       const char *path, struct eb_acc_result *res, struct eb_err *err)
{
	struct eb_hellaswag ds;
	struct eb_mc_item *items;
	int ret;

	ret = eb_hellaswag_load(&ds, path, err);
	if (ret)
		return ret;
	items = eb_xcalloc(ds.n, sizeof(*items));
	for (size_t i = 0; i < ds.n; i++) {
		const struct eb_hellaswag_item *it = &ds.items[i];

		for (int k = 0; k < EB_HELLASWAG_NCHOICES; k++) {
			items[i].ctx[k] = it->query;
			items[i].cont[k] = it->cont[k];
			items[i].choice_len[k] = it->choice_len[k];
		}
		items[i].n_choices = EB_HELLASWAG_NCHOICES;
		items[i].gold = it->label;
		items[i].line = it->line;
	}
	ret = eb_acc_mc_score(A, ops, st, path, items, ds.n, 0, "ending", 1, res, err);
	A->mc = NULL;
	free(items);
	eb_hellaswag_release(&ds);
	return ret;
}
