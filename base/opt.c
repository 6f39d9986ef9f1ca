/* opt.c: option tables (see eb_opt.h): the one validator, its error lines, typed getters. */
#include "eb_opt.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A path buffer long enough that long keys keep their line and column. */
#define EB_OPT_PATH_MAX 4096

/* The state of one eb_opt_validate call. */
struct eb_optv {
	const struct eb_opt_check *c;
	int n;    /* problems reported */
	int stop; /* report() asked to stop */
};

static void eb_optv_report(struct eb_optv *v, const char *path, const char *name, int at_key,
			   int names_key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void eb_optv_report(struct eb_optv *v, const char *path, const char *name, int at_key,
			   int names_key, const char *fmt, ...)
{
	struct eb_opt_problem p = { path, name, at_key, names_key, NULL };
	char msg[768];
	va_list ap;

	if (v->stop)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p.msg = msg;
	v->n++;
	if (v->c->report(v->c->ud, &p))
		v->stop = 1;
}

const char *eb_opt_suggest(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, len = strlen(name);
	size_t limit = len / 3 > 2 ? len / 3 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = eb_edit_distance(name, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

const char *eb_opt_type_name(enum eb_opt_type t)
{
	switch (t) {
	case EB_OPT_INT:
		return "an integer";
	case EB_OPT_NUM:
		return "a number";
	case EB_OPT_BOOL:
		return "true or false";
	case EB_OPT_STR:
	case EB_OPT_ENUM:
		return "a string";
	case EB_OPT_OBJ:
		return "an object";
	case EB_OPT_ARR:
		return "an array";
	case EB_OPT_ARR_STR:
		return "an array of strings";
	case EB_OPT_ARR_INT:
		return "an array of integers";
	case EB_OPT_ARR_OBJ:
		return "an array of objects";
	case EB_OPT_INT_OBJ:
		return "an integer or an object";
	}
	return "?";
}

const char *eb_opt_type_word(enum eb_opt_type t)
{
	switch (t) {
	case EB_OPT_INT:
		return "int";
	case EB_OPT_NUM:
		return "number";
	case EB_OPT_BOOL:
		return "bool";
	case EB_OPT_STR:
	case EB_OPT_ENUM:
		return "string";
	case EB_OPT_OBJ:
		return "object";
	case EB_OPT_ARR:
	case EB_OPT_ARR_STR:
	case EB_OPT_ARR_INT:
	case EB_OPT_ARR_OBJ:
		return "array";
	case EB_OPT_INT_OBJ:
		return "int|object";
	}
	return "?";
}

static const char *eb_jtype_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

/* "expected an integer, got a string", or the sensors' "option 'x' of sensor 'y' must be ...". */
static void eb_optv_type(struct eb_optv *v, const char *path, const struct eb_opt *o,
			 const char *want, const json_t *got)
{
	if (v->c->voice == EB_OPT_VOICE_SENSOR)
		eb_optv_report(v, path, o->name, 0, 1, "option '%s' of %s '%s' must be %s",
			       o->name, v->c->owner_kind, v->c->owner, eb_opt_type_name(o->type));
	else
		eb_optv_report(v, path, o->name, 0, 0, "expected %s, got %s", want,
			       eb_jtype_name(got));
}

/* `val` (a number) against the range of `o`, printed as given: a large integer is not rounded. */
static void eb_optv_range(struct eb_optv *v, const char *path, const char *name,
			  const struct eb_opt *o, const json_t *val, int is_int)
{
	double x = json_number_value(val);
	double min = o->range.min, max = o->range.max;
	char num[32];

	if (!o->range.set || (x >= min && x <= max))
		return;
	if (v->c->voice == EB_OPT_VOICE_SENSOR) {
		eb_optv_report(v, path, name, 0, 0, "%g is out of range [%g, %g]", x, min, max);
		return;
	}
	if (json_is_integer(val))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(val));
	else
		snprintf(num, sizeof(num), "%.17g", x);
	if (is_int)
		eb_optv_report(v, path, name, 0, 0, "%s is out of range %.0f..%.0f", num, min, max);
	else
		eb_optv_report(v, path, name, 0, 0, "%s is out of range %g..%g", num, min, max);
}

static void eb_optv_choice(struct eb_optv *v, const char *path, const struct eb_opt *o,
			   const char *s)
{
	int sensor = v->c->voice == EB_OPT_VOICE_SENSOR;
	struct eb_buf b;

	for (size_t i = 0; o->choices && o->choices[i]; i++)
		if (strcmp(o->choices[i], s) == 0)
			return;
	eb_buf_init(&b, 1024);
	for (size_t i = 0; o->choices && o->choices[i]; i++)
		eb_buf_addf(&b, sensor ? "%s'%s'" : "%s%s", i ? ", " : "", o->choices[i]);
	if (sensor)
		eb_optv_report(v, path, o->name, 0, 0, "'%s' is not one of %s", s, b.buf);
	else
		eb_optv_report(v, path, o->name, 0, 0, "\"%s\" is not one of: %s", s, b.buf);
	eb_buf_release(&b);
}

static void eb_optv_obj(struct eb_optv *v, const struct eb_opt *const *tables, const json_t *obj,
			const char *path);

/* The items of an array `val` of option `o` at `path`. */
static void eb_optv_items(struct eb_optv *v, const json_t *val, const struct eb_opt *o,
			  const char *path)
{
	char sub[EB_OPT_PATH_MAX];
	size_t i;
	json_t *it;

	if (json_array_size(val) == 0 && (o->flags & EB_OPT_REQUIRED))
		eb_optv_report(v, path, o->name, 0, 0, "must not be empty");
	json_array_foreach(val, i, it) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (o->type == EB_OPT_ARR_OBJ) {
			const struct eb_opt *tables[2] = { o->sub, NULL };

			if (!json_is_object(it))
				eb_optv_report(v, sub, NULL, 0, 0, "expected an object, got %s",
					       eb_jtype_name(it));
			else
				eb_optv_obj(v, tables, it, sub);
		} else if (o->type == EB_OPT_ARR_INT) {
			if (!json_is_integer(it))
				eb_optv_report(v, sub, NULL, 0, 0, "expected an integer, got %s",
					       eb_jtype_name(it));
			else
				eb_optv_range(v, sub, NULL, o, it, 1);
		} else if (o->type == EB_OPT_ARR_STR) {
			int empty = json_is_string(it) && json_string_length(it) == 0 &&
				    (o->flags & EB_OPT_NONEMPTY);

			if (json_is_string(it) && !empty)
				continue;
			if (v->c->voice == EB_OPT_VOICE_SENSOR) { /* the whole option is wrong */
				eb_optv_type(v, path, o, NULL, val);
				return;
			}
			eb_optv_report(v, sub, NULL, 0, 0, "expected a %sstring, got %s",
				       (o->flags & EB_OPT_NONEMPTY) ? "non-empty " : "",
				       eb_jtype_name(it));
		}
	}
}

/* The value `val` of option `o` at `path`. */
static void eb_optv_val(struct eb_optv *v, const json_t *val, const struct eb_opt *o,
			const char *path)
{
	switch (o->type) {
	case EB_OPT_INT:
		if (!json_is_integer(val))
			eb_optv_type(v, path, o, "an integer", val);
		else
			eb_optv_range(v, path, o->name, o, val, 1);
		return;
	case EB_OPT_NUM:
		if (!json_is_number(val))
			eb_optv_type(v, path, o, "a number", val);
		else
			eb_optv_range(v, path, o->name, o, val, 0);
		return;
	case EB_OPT_BOOL:
		if (!json_is_boolean(val))
			eb_optv_type(v, path, o, "true or false", val);
		return;
	case EB_OPT_STR:
	case EB_OPT_ENUM:
		if (!json_is_string(val))
			eb_optv_type(v, path, o, "a string", val);
		else if ((o->flags & EB_OPT_NONEMPTY) && json_string_length(val) == 0)
			eb_optv_report(v, path, o->name, 0, 0, "must not be empty");
		else if (o->type == EB_OPT_ENUM)
			eb_optv_choice(v, path, o, json_string_value(val));
		return;
	case EB_OPT_OBJ:
		if (!json_is_object(val)) {
			eb_optv_type(v, path, o, "an object", val);
		} else if (o->sub) {
			const struct eb_opt *tables[2] = { o->sub, NULL };

			eb_optv_obj(v, tables, val, path);
		}
		return;
	case EB_OPT_INT_OBJ:
		if (json_is_integer(val)) {
			eb_optv_range(v, path, o->name, o, val, 1);
		} else if (json_is_object(val)) {
			const struct eb_opt *tables[2] = { o->sub, NULL };

			eb_optv_obj(v, tables, val, path);
		} else {
			eb_optv_type(v, path, o, "an integer or an object", val);
		}
		return;
	case EB_OPT_ARR:
	case EB_OPT_ARR_STR:
	case EB_OPT_ARR_INT:
	case EB_OPT_ARR_OBJ:
		if (!json_is_array(val))
			eb_optv_type(v, path, o, eb_opt_type_name(o->type), val);
		else if (o->type != EB_OPT_ARR)
			eb_optv_items(v, val, o, path);
		return;
	}
}

/* "unknown key "x"; did you mean "y"?", or in the sensors' words with single quotes. */
static void eb_optv_unknown(struct eb_optv *v, const struct eb_opt *const *tables,
			    const char *key, const char *path)
{
	const struct eb_opt_check *c = v->c;
	char q = c->voice == EB_OPT_VOICE_SENSOR ? '\'' : '"';
	const char *names[128];
	const char *s;
	char whose[160] = "";
	size_t nn = 0;

	for (size_t t = 0; tables[t]; t++)
		for (const struct eb_opt *o = tables[t]; o->name && nn < 128; o++)
			names[nn++] = o->name;
	if (c->owner)
		snprintf(whose, sizeof(whose), " for %s '%s'", c->owner_kind, c->owner);
	s = eb_opt_suggest(key, names, nn);
	if (s)
		eb_optv_report(v, path, key, 1, 1, "unknown %s %c%s%c%s; did you mean %c%s%c?",
			       c->noun, q, key, q, whose, q, s, q);
	else
		eb_optv_report(v, path, key, 1, 1, "unknown %s %c%s%c%s", c->noun, q, key, q,
			       whose);
}

static const struct eb_opt *eb_opt_find_in(const struct eb_opt *const *tables, const char *name)
{
	for (size_t t = 0; tables[t]; t++) {
		const struct eb_opt *o = eb_opt_find(tables[t], name);

		if (o)
			return o;
	}
	return NULL;
}

static void eb_optv_obj(struct eb_optv *v, const struct eb_opt *const *tables, const json_t *obj,
			const char *path)
{
	const char *key;
	json_t *val;
	char sub[EB_OPT_PATH_MAX];

	json_object_foreach((json_t *)obj, key, val) {
		const struct eb_opt *o = eb_opt_find_in(tables, key);

		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		if (!o)
			eb_optv_unknown(v, tables, key, sub);
		else
			eb_optv_val(v, val, o, sub);
	}
	for (size_t t = 0; tables[t]; t++)
		for (const struct eb_opt *o = tables[t]; o->name; o++)
			if ((o->flags & EB_OPT_REQUIRED) && !json_object_get(obj, o->name))
				eb_optv_report(v, path, o->name, 0, 1, "missing required %s \"%s\"",
					       v->c->noun, o->name);
}

int eb_opt_validate(const struct eb_opt_check *c, const struct eb_opt *const *tables,
		    const json_t *obj, const char *path)
{
	struct eb_optv v = { c, 0, 0 };

	eb_optv_obj(&v, tables, obj, path);
	return v.n;
}

/* --- error lines -------------------------------------------------------------------- */

void eb_opt_errors_init(struct eb_opt_errors *e, const char *file)
{
	memset(e, 0, sizeof(*e));
	e->file = file;
	eb_buf_init(&e->lines, 1 << 20);
}

void eb_opt_errors_release(struct eb_opt_errors *e)
{
	eb_jsonpos_release(&e->pos);
	eb_buf_release(&e->lines);
}

static void eb_opt_errors_add(struct eb_opt_errors *e, const char *path, int at_key,
			      const char *msg)
{
	const struct eb_jsonpos_ent *ent = eb_jsonpos_find(&e->pos, path);
	int line = 1, col = 1;

	if (ent) {
		line = at_key && ent->key_line ? ent->key_line : ent->val_line;
		col = at_key && ent->key_line ? ent->key_col : ent->val_col;
	}
	eb_buf_addf(&e->lines, "%s:%d:%d: %s%s%s\n", e->file, line, col, path,
		    *path ? ": " : "", msg);
	if (e->n++ == 0)
		eb_err_set(&e->first, EB_ECONFIG, "%s:%d:%d: %s%s%s", e->file, line, col, path,
			   *path ? ": " : "", msg);
}

void eb_opt_errorf(struct eb_opt_errors *e, const char *path, int at_key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eb_opt_errors_add(e, path, at_key, msg);
}

int eb_opt_errors_report(void *ud, const struct eb_opt_problem *p)
{
	eb_opt_errors_add(ud, p->path, p->at_key, p->msg);
	return 0;
}

/* --- tables and getters ------------------------------------------------------------- */

const struct eb_opt *eb_opt_find(const struct eb_opt *table, const char *name)
{
	for (const struct eb_opt *o = table; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

const json_t *eb_opt_given(const json_t *obj, const char *name)
{
	const json_t *v = obj ? json_object_get(obj, name) : NULL;

	return v && !json_is_null(v) ? v : NULL;
}

long long eb_opt_get_int(const struct eb_opt *o, const json_t *obj)
{
	const json_t *v = o ? eb_opt_given(obj, o->name) : NULL;
	long long x;

	if (v && json_is_integer(v))
		return json_integer_value(v);
	if (v && json_is_real(v) && eb_double_to_ll(json_real_value(v), &x) == 0)
		return x;
	return o && o->def.set ? o->def.i : 0;
}

double eb_opt_get_num(const struct eb_opt *o, const json_t *obj)
{
	const json_t *v = o ? eb_opt_given(obj, o->name) : NULL;

	if (v && json_is_number(v))
		return json_number_value(v);
	return o && o->def.set ? o->def.d : 0;
}

int eb_opt_get_bool(const struct eb_opt *o, const json_t *obj)
{
	const json_t *v = o ? eb_opt_given(obj, o->name) : NULL;

	if (v && json_is_boolean(v))
		return json_is_true(v);
	return o && o->def.set ? o->def.i != 0 : 0;
}

const char *eb_opt_get_str(const struct eb_opt *o, const json_t *obj)
{
	const json_t *v = o ? eb_opt_given(obj, o->name) : NULL;

	if (v && json_is_string(v))
		return json_string_value(v);
	return o && o->def.set ? o->def.s : NULL;
}

long long eb_opt_int(const json_t *obj, const struct eb_opt *table, const char *name)
{
	return eb_opt_get_int(eb_opt_find(table, name), obj);
}

double eb_opt_num(const json_t *obj, const struct eb_opt *table, const char *name)
{
	return eb_opt_get_num(eb_opt_find(table, name), obj);
}

int eb_opt_bool(const json_t *obj, const struct eb_opt *table, const char *name)
{
	return eb_opt_get_bool(eb_opt_find(table, name), obj);
}

const char *eb_opt_str(const json_t *obj, const struct eb_opt *table, const char *name)
{
	return eb_opt_get_str(eb_opt_find(table, name), obj);
}

const char *eb_opt_def_text(const struct eb_opt *o, char *buf, size_t n)
{
	if (o->def.text)
		return o->def.text;
	if (!o->def.set)
		return NULL;
	switch (o->type) {
	case EB_OPT_INT:
		snprintf(buf, n, "%lld", o->def.i);
		return buf;
	case EB_OPT_NUM:
		snprintf(buf, n, "%g", o->def.d);
		return buf;
	case EB_OPT_BOOL:
		return o->def.i ? "true" : "false";
	case EB_OPT_STR:
	case EB_OPT_ENUM:
		return o->def.s;
	default:
		return NULL;
	}
}

/* The default of `o` is of its type, within its range and among its choices. */
static int eb_opt_def_check(const struct eb_opt *o, struct eb_err *err)
{
	double x = o->type == EB_OPT_NUM ? o->def.d : (double)o->def.i;
	int found = 0;

	switch (o->type) {
	case EB_OPT_INT:
	case EB_OPT_NUM:
		if (o->range.set && (x < o->range.min || x > o->range.max))
			return eb_err_set(err, EB_EINVAL, "option '%s': default %g is out of range",
					  o->name, x);
		return 0;
	case EB_OPT_BOOL:
		if (o->def.i != 0 && o->def.i != 1)
			return eb_err_set(err, EB_EINVAL, "option '%s': default is not 0 or 1",
					  o->name);
		return 0;
	case EB_OPT_STR:
	case EB_OPT_ENUM:
		if (!o->def.s)
			return eb_err_set(err, EB_EINVAL, "option '%s': default has no string",
					  o->name);
		for (size_t i = 0; o->type == EB_OPT_ENUM && o->choices[i]; i++)
			found |= strcmp(o->choices[i], o->def.s) == 0;
		if (o->type == EB_OPT_ENUM && !found)
			return eb_err_set(err, EB_EINVAL,
					  "option '%s': default '%s' is not one of its choices",
					  o->name, o->def.s);
		return 0;
	default:
		return eb_err_set(err, EB_EINVAL, "option '%s': %s cannot have a default value",
				  o->name, eb_opt_type_name(o->type));
	}
}

int eb_opt_table_check(const struct eb_opt *table, struct eb_err *err)
{
	for (const struct eb_opt *o = table; o && o->name; o++) {
		if (!o->help)
			return eb_err_set(err, EB_EINVAL, "option '%s' has no help", o->name);
		for (const struct eb_opt *p = table; p < o; p++)
			if (strcmp(p->name, o->name) == 0)
				return eb_err_set(err, EB_EINVAL, "option '%s' listed twice",
						  o->name);
		if (o->type == EB_OPT_ENUM && (!o->choices || !o->choices[0]))
			return eb_err_set(err, EB_EINVAL, "option '%s': an enum without choices",
					  o->name);
		if ((o->type == EB_OPT_ARR_OBJ || o->type == EB_OPT_INT_OBJ) && !o->sub)
			return eb_err_set(err, EB_EINVAL, "option '%s': an object array without keys",
					  o->name);
		if (o->def.set && eb_opt_def_check(o, err) != 0)
			return EB_EINVAL;
		if (o->sub && eb_opt_table_check(o->sub, err) != 0)
			return eb_err_prefix(err, "in '%s'", o->name);
	}
	return 0;
}
