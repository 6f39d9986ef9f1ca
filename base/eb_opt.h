/* eb_opt.h: option tables: config keys, adapter and sensor options; their validator and getters. */
#ifndef EB_OPT_H
#define EB_OPT_H

#include <stddef.h>

#include <jansson.h>

#include "eb_err.h"
#include "eb_util.h"
#include "jsonpos.h"

/*
 * One table type drives validation, defaults, typed getters and help (`edgebench
 * adapters`, `edgebench sensors`, `edgebench validate --schema`) at once, so a default or
 * a range is written in one place.
 */
enum eb_opt_type {
	EB_OPT_INT,     /* an integer, within .range when set */
	EB_OPT_NUM,     /* a number, within .range when set */
	EB_OPT_BOOL,    /* true or false */
	EB_OPT_STR,     /* a string */
	EB_OPT_ENUM,    /* a string, one of .choices */
	EB_OPT_OBJ,     /* an object: its keys checked against .sub, or any object when .sub is NULL
			 * (headers, env; or checked later against another table) */
	EB_OPT_ARR,     /* an array of anything (argv templates, checked by their adapter) */
	EB_OPT_ARR_STR, /* an array of strings */
	EB_OPT_ARR_INT, /* an array of integers, each within .range when set */
	EB_OPT_ARR_OBJ, /* an array of objects, each checked against .sub */
	EB_OPT_INT_OBJ, /* an integer within .range, or an object checked against .sub (a fixed
			 * length or a distribution of lengths) */
};

/* Flags (eb_opt.flags). */
enum {
	EB_OPT_REQUIRED = 1 << 0, /* must be present; a required array must not be empty */
	EB_OPT_NONEMPTY = 1 << 1, /* a string (or each string of an array) must not be "" */
};

/* The default a getter returns when the option is absent, typed as the option is. */
struct eb_opt_def {
	int set;          /* 0: no value (required, or computed at run time: see `text`) */
	long long i;      /* EB_OPT_INT; EB_OPT_BOOL (0 or 1) */
	double d;         /* EB_OPT_NUM */
	const char *s;    /* EB_OPT_STR, EB_OPT_ENUM */
	const char *text; /* shown in help in place of a value ("the target's"); NULL: the value */
};

#define EB_DEF_INT(x) { .set = 1, .i = (x) }
#define EB_DEF_NUM(x) { .set = 1, .d = (x) }
#define EB_DEF_BOOL(x) { .set = 1, .i = (x) }
#define EB_DEF_STR(x) { .set = 1, .s = (x) }
#define EB_DEF_TEXT(x) { .text = (x) }

/* Inclusive bounds of a number (or of each integer of EB_OPT_ARR_INT); unset: any. */
struct eb_opt_range {
	int set;
	double min, max;
};

#define EB_RANGE(lo, hi) { .set = 1, .min = (lo), .max = (hi) }

/* One option (or config key). A table is an array of these ending with { NULL }. */
struct eb_opt {
	const char *name;
	enum eb_opt_type type;
	unsigned flags;              /* EB_OPT_REQUIRED, EB_OPT_NONEMPTY */
	struct eb_opt_def def;
	struct eb_opt_range range;
	const char *const *choices;  /* EB_OPT_ENUM: NULL-terminated */
	const struct eb_opt *sub;    /* EB_OPT_OBJ, EB_OPT_ARR_OBJ: the keys of each object */
	const char *help;            /* one line */
};

/* --- the validator ------------------------------------------------------------------ */

/*
 * How problems are worded: the config's own words (unknown key "x"; expected an integer,
 * got a string; 0 is out of range 1..100) or the sensors' ('x' quoted; must be an integer;
 * out of range [1, 100]), which `edgebench sensors`, the sampler and their tests show.
 */
enum eb_opt_voice {
	EB_OPT_VOICE_CONFIG,
	EB_OPT_VOICE_SENSOR,
};

/* One problem found by eb_opt_validate. Every pointer is valid only during report(). */
struct eb_opt_problem {
	const char *path; /* the offending member ("targets[0].options.threads"), or the object
			   * a required key is missing from */
	const char *name; /* the option's name, or NULL for an array element */
	int at_key;       /* 1: point at the member's key (an unknown name), 0: at its value */
	int names_key;    /* 1: msg names the option itself ("unknown option 'x' ..."); 0: msg
			   * is about its value ("0 is out of range 1..9") */
	const char *msg;
};

struct eb_opt_check {
	enum eb_opt_voice voice;
	const char *noun;  /* what an unknown member is called: "key", "option" */
	const char *owner_kind; /* whose options they are, named in messages: "adapter", ... */
	const char *owner;      /* ... and its name ("llamacpp"); NULL for the config's keys */
	/* Called for each problem in document order; a non-zero return stops the check. */
	int (*report)(void *ud, const struct eb_opt_problem *p);
	void *ud;
};

/*
 * Checks the members of `obj` (an object) against `tables` (NULL-terminated; a name is
 * looked up in each in turn), recursing into .sub tables: unknown names (with "did you
 * mean"), types, ranges, choices, empty strings, missing required keys. `path` is the
 * path of `obj` ("" for the root). Returns the number of problems reported.
 */
int eb_opt_validate(const struct eb_opt_check *c, const struct eb_opt *const *tables,
		    const json_t *obj, const char *path);

/*
 * The closest of `cands` to `name` within a third of its length (at least 2 edits), for
 * "did you mean"; NULL when none is that close.
 */
const char *eb_opt_suggest(const char *name, const char *const *cands, size_t n);

/*
 * Problems as lines "file:line:column: key.path: message", each placed at its key or value
 * by `pos` (which the caller scans from the document's text), else at 1:1.
 */
struct eb_opt_errors {
	const char *file;
	struct eb_jsonpos pos;
	struct eb_buf lines; /* every problem, one per line */
	struct eb_err first; /* the first, as one line without its newline */
	int n;
};

/* `file` must outlive `e`. Release with eb_opt_errors_release. */
void eb_opt_errors_init(struct eb_opt_errors *e, const char *file);
void eb_opt_errors_release(struct eb_opt_errors *e);

/* Adds a problem about `path` (at its key when at_key, else at its value). */
void eb_opt_errorf(struct eb_opt_errors *e, const char *path, int at_key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A report() for eb_opt_check whose `ud` is a struct eb_opt_errors; never stops. */
int eb_opt_errors_report(void *ud, const struct eb_opt_problem *p);

/* --- tables and getters ------------------------------------------------------------- */

/* The option `name` in `table`; NULL when absent (or `table` is NULL). */
const struct eb_opt *eb_opt_find(const struct eb_opt *table, const char *name);

/* The value of `name` in `obj` (an object or NULL); NULL when absent or JSON null. */
const json_t *eb_opt_given(const json_t *obj, const char *name);

/*
 * Typed getters over validated options: the value of `o` in `obj`, else the table's
 * default, else 0 (NULL for strings): an option whose default is computed at run time
 * reads eb_opt_given first. A NULL `o` (an option not in the table) reads 0 / NULL.
 * Strings stay owned by `obj` or the table.
 */
long long eb_opt_get_int(const struct eb_opt *o, const json_t *obj);
double eb_opt_get_num(const struct eb_opt *o, const json_t *obj);
int eb_opt_get_bool(const struct eb_opt *o, const json_t *obj);
const char *eb_opt_get_str(const struct eb_opt *o, const json_t *obj);

/* The same, with the option looked up by name in `table`. */
long long eb_opt_int(const json_t *obj, const struct eb_opt *table, const char *name);
double eb_opt_num(const json_t *obj, const struct eb_opt *table, const char *name);
int eb_opt_bool(const json_t *obj, const struct eb_opt *table, const char *name);
const char *eb_opt_str(const json_t *obj, const struct eb_opt *table, const char *name);

/*
 * Checks a table: help on each option, no name twice, a default of the option's own type
 * within its range and among its choices, choices for each enum, a .sub for each object
 * array. Returns 0, or EB_EINVAL with "option 'x' ..." in err.
 */
int eb_opt_table_check(const struct eb_opt *table, struct eb_err *err);

/* "an integer", "an array of strings", ...: for messages and the config reference. */
const char *eb_opt_type_name(enum eb_opt_type t);

/* "int", "number", "bool", "string", "object", "array": for option listings. */
const char *eb_opt_type_word(enum eb_opt_type t);

/* The default as help shows it: its text, else its value (in buf[0..n)), else NULL. */
const char *eb_opt_def_text(const struct eb_opt *o, char *buf, size_t n);

#endif
