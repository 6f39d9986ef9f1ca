/* ctest: labels=unit timeout=30 */
/* check_opt.c: option tables: the validator in both voices, error lines, getters, table checks. */
#include "eb_opt.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const eb_t_modes[] = { "fast", "slow", NULL };

static const struct eb_opt eb_t_inner[] = {
	{ .name = "id", .type = EB_OPT_STR, .flags = EB_OPT_REQUIRED | EB_OPT_NONEMPTY,
	  .help = "an id" },
	{ .name = "size", .type = EB_OPT_NUM, .range = EB_RANGE(0.5, 2.5), .help = "a size" },
	{ NULL },
};

static const struct eb_opt eb_t_table[] = {
	{ .name = "count", .type = EB_OPT_INT, .def = EB_DEF_INT(7), .range = EB_RANGE(1, 100),
	  .help = "a count" },
	{ .name = "ratio", .type = EB_OPT_NUM, .def = EB_DEF_NUM(0.25), .help = "a ratio" },
	{ .name = "on", .type = EB_OPT_BOOL, .def = EB_DEF_BOOL(1), .help = "a switch" },
	{ .name = "label", .type = EB_OPT_STR, .flags = EB_OPT_NONEMPTY, .help = "a label" },
	{ .name = "mode", .type = EB_OPT_ENUM, .def = EB_DEF_STR("slow"), .choices = eb_t_modes,
	  .help = "a mode" },
	{ .name = "lens", .type = EB_OPT_ARR_INT, .flags = EB_OPT_REQUIRED,
	  .range = EB_RANGE(1, 9), .help = "lengths" },
	{ .name = "tags", .type = EB_OPT_ARR_STR, .help = "tags" },
	{ .name = "items", .type = EB_OPT_ARR_OBJ, .sub = eb_t_inner, .help = "items" },
	{ .name = "any", .type = EB_OPT_OBJ, .def = EB_DEF_TEXT("none"), .help = "any object" },
	{ NULL },
};

/* Problems as "path|at_key|names_key|msg" lines. */
struct eb_t_sink {
	char out[4096];
	int stop_after; /* 0: never stop */
	int n;
};

static int eb_t_report(void *ud, const struct eb_opt_problem *p)
{
	struct eb_t_sink *s = ud;
	size_t len = strlen(s->out);

	snprintf(s->out + len, sizeof(s->out) - len, "%s|%d|%d|%s\n", p->path, p->at_key,
		 p->names_key, p->msg);
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static int eb_t_check(enum eb_opt_voice voice, const char *kind, const char *json,
		      struct eb_t_sink *s)
{
	const struct eb_opt *tables[] = { eb_t_table, NULL };
	struct eb_opt_check c = {
		.voice = voice,
		.noun = kind ? "option" : "key",
		.owner_kind = kind,
		.owner = kind ? "x" : NULL,
		.report = eb_t_report,
		.ud = s,
	};
	json_error_t jerr;
	json_t *obj = json_loads(json, 0, &jerr);
	int n;

	ck_assert_msg(obj != NULL, "%s", jerr.text);
	n = eb_opt_validate(&c, tables, obj, "cfg");
	json_decref(obj);
	return n;
}

START_TEST(config_voice_every_problem)
{
	struct eb_t_sink s = { "", 0, 0 };
	int n = eb_t_check(EB_OPT_VOICE_CONFIG, NULL,
			   "{\"count\": 0, \"ratio\": \"x\", \"on\": 1, \"label\": \"\","
			   " \"mode\": \"quick\", \"lens\": [3, 9007199254740993, \"a\"],"
			   " \"tags\": [\"\", 2],"
			   " \"items\": [{\"size\": 3}, 5], \"cuont\": 1, \"zzzzzz\": 2}",
			   &s);

	ck_assert_int_eq(n, 13);
	ck_assert_str_eq(s.out,
			 "cfg.count|0|0|0 is out of range 1..100\n"
			 "cfg.ratio|0|0|expected a number, got a string\n"
			 "cfg.on|0|0|expected true or false, got an integer\n"
			 "cfg.label|0|0|must not be empty\n"
			 "cfg.mode|0|0|\"quick\" is not one of: fast, slow\n"
			 "cfg.lens[1]|0|0|9007199254740993 is out of range 1..9\n"
			 "cfg.lens[2]|0|0|expected an integer, got a string\n"
			 "cfg.tags[1]|0|0|expected a string, got an integer\n"
			 "cfg.items[0].size|0|0|3 is out of range 0.5..2.5\n"
			 "cfg.items[0]|0|1|missing required key \"id\"\n"
			 "cfg.items[1]|0|0|expected an object, got an integer\n"
			 "cfg.cuont|1|1|unknown key \"cuont\"; did you mean \"count\"?\n"
			 "cfg.zzzzzz|1|1|unknown key \"zzzzzz\"\n");
}
END_TEST

START_TEST(config_voice_required_and_owner)
{
	struct eb_t_sink s = { "", 0, 0 };

	/* a required array must not be empty; a missing required key is named */
	ck_assert_int_eq(eb_t_check(EB_OPT_VOICE_CONFIG, NULL, "{\"lens\": []}", &s), 1);
	ck_assert_str_eq(s.out, "cfg.lens|0|0|must not be empty\n");
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(eb_t_check(EB_OPT_VOICE_CONFIG, NULL, "{}", &s), 1);
	ck_assert_str_eq(s.out, "cfg|0|1|missing required key \"lens\"\n");
	/* an owner's options: named in the message, the value quoted as given */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(eb_t_check(EB_OPT_VOICE_CONFIG, "adapter",
				    "{\"lens\": [1], \"mod\": \"fast\", \"count\": 1e3}", &s),
			 2);
	ck_assert_str_eq(s.out,
			 "cfg.mod|1|1|unknown option \"mod\" for adapter 'x'; did you mean \"mode\"?\n"
			 "cfg.count|0|0|expected an integer, got a number\n");
}
END_TEST

START_TEST(sensor_voice_and_stop)
{
	struct eb_t_sink s = { "", 0, 0 };

	ck_assert_int_eq(eb_t_check(EB_OPT_VOICE_SENSOR, "sensor",
				    "{\"lens\": [1], \"count\": 101, \"mode\": \"quick\","
				    " \"tags\": [\"a\", 1], \"on\": \"yes\", \"cont\": 1}",
				    &s),
			 5);
	ck_assert_str_eq(s.out, "cfg.count|0|0|101 is out of range [1, 100]\n"
				"cfg.mode|0|0|'quick' is not one of 'fast', 'slow'\n"
				"cfg.tags|0|1|option 'tags' of sensor 'x' must be an array of strings\n"
				"cfg.on|0|1|option 'on' of sensor 'x' must be true or false\n"
				"cfg.cont|1|1|unknown option 'cont' for sensor 'x'; did you mean "
				"'count'?\n");
	/* a report() that returns non-zero stops the check */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	ck_assert_int_eq(eb_t_check(EB_OPT_VOICE_SENSOR, "sensor",
				    "{\"count\": 0, \"on\": 3}", &s),
			 1);
	ck_assert_str_eq(s.out, "cfg.count|0|0|0 is out of range [1, 100]\n");
}
END_TEST

/* Lines "file:line:column: path: message", at the key of an unknown name, else the value. */
START_TEST(error_lines_placed)
{
	const char *text = "{\n  \"lens\": [1],\n  \"count\": 0,\n  \"cuont\": 1\n}\n";
	const struct eb_opt *tables[] = { eb_t_table, NULL };
	struct eb_opt_errors e;
	struct eb_opt_check c = {
		.voice = EB_OPT_VOICE_CONFIG,
		.noun = "key",
		.report = eb_opt_errors_report,
		.ud = &e,
	};
	json_t *obj = json_loads(text, 0, NULL);
	char *lines;

	eb_opt_errors_init(&e, "t.json");
	ck_assert_int_eq(eb_jsonpos_scan(&e.pos, text, strlen(text)), 0);
	ck_assert_int_eq(eb_opt_validate(&c, tables, obj, ""), 2);
	eb_opt_errorf(&e, "nowhere", 0, "placed at %d:%d", 1, 1);
	ck_assert_int_eq(e.n, 3);
	ck_assert_str_eq(e.first.msg, "t.json:3:12: count: 0 is out of range 1..100");
	ck_assert_int_eq(e.first.code, EB_ECONFIG);
	lines = eb_buf_detach(&e.lines, NULL);
	ck_assert_str_eq(lines, "t.json:3:12: count: 0 is out of range 1..100\n"
				"t.json:4:3: cuont: unknown key \"cuont\"; did you mean \"count\"?\n"
				"t.json:1:1: nowhere: placed at 1:1\n");
	free(lines);
	eb_opt_errors_release(&e);
	json_decref(obj);
}
END_TEST

START_TEST(getters_default_from_table)
{
	json_t *given = json_pack("{s:i, s:f, s:b, s:s, s:s, s:n}", "count", 3, "ratio", 0.5, "on",
				  0, "label", "x", "mode", "fast", "tags");
	json_t *real = json_pack("{s:f}", "count", 12.0);

	/* absent: the table's default, or 0 / NULL where it has none */
	ck_assert_int_eq(eb_opt_int(NULL, eb_t_table, "count"), 7);
	ck_assert_double_eq(eb_opt_num(NULL, eb_t_table, "ratio"), 0.25);
	ck_assert_int_eq(eb_opt_bool(NULL, eb_t_table, "on"), 1);
	ck_assert_str_eq(eb_opt_str(NULL, eb_t_table, "mode"), "slow");
	ck_assert_ptr_null(eb_opt_str(NULL, eb_t_table, "label"));
	/* given */
	ck_assert_int_eq(eb_opt_int(given, eb_t_table, "count"), 3);
	ck_assert_double_eq(eb_opt_num(given, eb_t_table, "ratio"), 0.5);
	ck_assert_int_eq(eb_opt_bool(given, eb_t_table, "on"), 0);
	ck_assert_str_eq(eb_opt_str(given, eb_t_table, "label"), "x");
	ck_assert_str_eq(eb_opt_str(given, eb_t_table, "mode"), "fast");
	ck_assert_int_eq(eb_opt_int(real, eb_t_table, "count"), 12);
	/* JSON null reads as absent; a name not in the table reads 0 */
	ck_assert_ptr_null(eb_opt_given(given, "tags"));
	ck_assert_ptr_nonnull(eb_opt_given(given, "count"));
	ck_assert_int_eq(eb_opt_int(given, eb_t_table, "nope"), 0);
	ck_assert_ptr_null(eb_opt_find(eb_t_table, "nope"));
	json_decref(given);
	json_decref(real);
}
END_TEST

START_TEST(help_texts)
{
	static const char *const names[] = { "warmup", "repetitions" };
	char buf[64];

	ck_assert_str_eq(eb_opt_def_text(&eb_t_table[0], buf, sizeof(buf)), "7");
	ck_assert_str_eq(eb_opt_def_text(&eb_t_table[1], buf, sizeof(buf)), "0.25");
	ck_assert_str_eq(eb_opt_def_text(&eb_t_table[2], buf, sizeof(buf)), "true");
	ck_assert_ptr_null(eb_opt_def_text(&eb_t_table[3], buf, sizeof(buf)));
	ck_assert_str_eq(eb_opt_def_text(&eb_t_table[4], buf, sizeof(buf)), "slow");
	ck_assert_str_eq(eb_opt_def_text(&eb_t_table[8], buf, sizeof(buf)), "none");
	ck_assert_str_eq(eb_opt_type_name(EB_OPT_ARR_OBJ), "an array of objects");
	ck_assert_str_eq(eb_opt_type_name(EB_OPT_ENUM), "a string");
	ck_assert_str_eq(eb_opt_type_word(EB_OPT_ENUM), "string");
	ck_assert_str_eq(eb_opt_type_word(EB_OPT_ARR_STR), "array");
	ck_assert_str_eq(eb_opt_suggest("repetition", names, 2), "repetitions");
	ck_assert_ptr_null(eb_opt_suggest("xyz", names, 2));
}
END_TEST

START_TEST(table_check_catches_mistakes)
{
	static const struct eb_opt nohelp[] = { { .name = "a", .type = EB_OPT_INT }, { NULL } };
	static const struct eb_opt twice[] = {
		{ .name = "a", .type = EB_OPT_INT, .help = "h" },
		{ .name = "a", .type = EB_OPT_NUM, .help = "h" },
		{ NULL },
	};
	static const struct eb_opt out_of_range[] = {
		{ .name = "a", .type = EB_OPT_INT, .def = EB_DEF_INT(0), .range = EB_RANGE(1, 2),
		  .help = "h" },
		{ NULL },
	};
	static const struct eb_opt bad_choice[] = {
		{ .name = "m", .type = EB_OPT_ENUM, .def = EB_DEF_STR("medium"),
		  .choices = eb_t_modes, .help = "h" },
		{ NULL },
	};
	static const struct eb_opt no_choices[] = {
		{ .name = "m", .type = EB_OPT_ENUM, .help = "h" },
		{ NULL },
	};
	static const struct eb_opt obj_default[] = {
		{ .name = "o", .type = EB_OPT_OBJ, .def = EB_DEF_STR("x"), .help = "h" },
		{ NULL },
	};
	static const struct eb_opt nested[] = {
		{ .name = "o", .type = EB_OPT_OBJ, .sub = nohelp, .help = "h" },
		{ NULL },
	};
	struct eb_err err;

	ck_assert_int_eq(eb_opt_table_check(eb_t_table, &err), 0);
	ck_assert_int_eq(eb_opt_table_check(nohelp, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "option 'a' has no help");
	ck_assert_int_eq(eb_opt_table_check(twice, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "option 'a' listed twice");
	ck_assert_int_eq(eb_opt_table_check(out_of_range, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "option 'a': default 0 is out of range");
	ck_assert_int_eq(eb_opt_table_check(bad_choice, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "option 'm': default 'medium' is not one of its choices");
	ck_assert_int_eq(eb_opt_table_check(no_choices, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "option 'm': an enum without choices");
	ck_assert_int_eq(eb_opt_table_check(obj_default, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "option 'o': an object cannot have a default value");
	ck_assert_int_eq(eb_opt_table_check(nested, &err), EB_EINVAL);
	ck_assert_str_eq(err.msg, "in 'o': option 'a' has no help");
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("opt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, config_voice_every_problem);
	tcase_add_test(tc, config_voice_required_and_owner);
	tcase_add_test(tc, sensor_voice_and_stop);
	tcase_add_test(tc, error_lines_placed);
	tcase_add_test(tc, getters_default_from_table);
	tcase_add_test(tc, help_texts);
	tcase_add_test(tc, table_check_catches_mistakes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
