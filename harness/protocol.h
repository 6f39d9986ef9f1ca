/* protocol.h: the accuracy protocols, one table: what each reads, scores, accepts and needs. */
#ifndef EB_PROTOCOL_H
#define EB_PROTOCOL_H

#include <stddef.h>

#include "adapter.h"
#include "eb_err.h"
#include "eb_util.h"

struct eb_acc;
struct eb_acc_result;

/*
 * A protocol's scorer (a function type; each proto_*.c defines one): scores the dataset
 * at `path` for the task in A (see accuracy_priv.h) and puts its figures into res; 0 or
 * a negative EB_E* code with err set.
 */
typedef int eb_acc_scorer_fn(struct eb_acc *A, const struct eb_adapter_ops *ops, void *st,
			     const char *path, struct eb_acc_result *res, struct eb_err *err);

/* The most optional task keys one protocol reads. */
#define EB_ACC_MAX_KEYS 8

/*
 * One accuracy protocol. Everything that names protocols derives from the table:
 * config validation (names, "did you mean", which task keys apply), the schema's help
 * for "protocol", the dataset a task reads when it names no file (and so `edgebench
 * datasets`), the capability check before a cell runs, and dispatch. Static storage.
 */
struct eb_acc_protocol {
	const char *name;      /* the task's "protocol", stored with every figure */
	const char *task;      /* what it measures, after whom (a few words) */
	const char *dataset;   /* catalog name (datasets/fetch.h) read when a task sets no
				* "file"; NULL: the task must set one */
	eb_acc_scorer_fn *score;
	/*
	 * The optional task keys it reads besides "task" and "protocol", in the order
	 * errors list them and params stores them; NULL-terminated. Their types, ranges
	 * and defaults are the task keys' in config.c.
	 */
	const char *const keys[EB_ACC_MAX_KEYS];
	unsigned caps;         /* EB_CAP_* the adapter needs */
	int needs_reference;   /* compares variants with workloads.accuracy.kld.reference */
	const char *help;      /* one line */
};

/* The table, terminated by an entry whose name is NULL. */
extern const struct eb_acc_protocol eb_acc_protocols[];

/* The protocol called `name`; NULL when unknown (or name is NULL). */
const struct eb_acc_protocol *eb_acc_protocol_find(const char *name);

/*
 * Appends the protocols' names to b, separated by `sep`, the last two by `last`
 * ("a, b or c"); only those reading catalog dataset `dataset` unless it is NULL.
 * Returns how many it appended.
 */
size_t eb_acc_protocol_names(struct eb_buf *b, const char *sep, const char *last,
			     const char *dataset);

/*
 * Whether adapter `ops` has what protocol p needs: 0, else EB_EUNSUPPORTED with err
 * saying which capability is missing. p may be NULL (only loglik is checked).
 */
int eb_acc_protocol_supported(const struct eb_acc_protocol *p, const struct eb_adapter_ops *ops,
			      struct eb_err *err);

#endif
