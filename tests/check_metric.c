/* ctest: labels=unit timeout=30 */
/* check_metric.c: the metric registry: complete entries, lookup of per-sensor names, directions. */
#include "metric.h"
#include "testutil.h"

#include <string.h>

/* Every entry is whole, its name unique, its group known, and its texts fit one table cell. */
START_TEST(entries_complete)
{
	size_t n = 0;

	for (const struct eb_metric *m = eb_metrics; m->name; m++, n++) {
		const char *texts[] = { m->summary, m->samples, m->definition, m->unit, m->label };
		int known = 0;

		ck_assert_msg(m->name[0] && strspn(m->name, "abcdefghijklmnopqrstuvwxyz0123456789_.") ==
						    strlen(m->name),
			      "bad name '%s'", m->name);
		ck_assert_msg(m->unit && m->summary[0] && m->samples[0] && m->definition[0],
			      "%s: empty field", m->name);
		ck_assert_msg(m->dir >= EB_DIR_LOWER && m->dir <= EB_DIR_HIGHER, "%s", m->name);
		for (const struct eb_metric_group *g = eb_metric_groups; g->name; g++)
			known |= strcmp(g->name, m->group) == 0;
		ck_assert_msg(known, "%s: unknown group '%s'", m->name, m->group);
		for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++)
			ck_assert_msg(!texts[k] || !strpbrk(texts[k], "|\n\t"),
				      "%s: '|', a newline or a tab in '%s'", m->name, texts[k]);
		for (const struct eb_metric *o = eb_metrics; o != m; o++)
			ck_assert_msg(strcmp(o->name, m->name) != 0, "%s twice", m->name);
		ck_assert_ptr_eq(eb_metric_find(m->name), m);
	}
	ck_assert_uint_gt(n, 0);
	/* each group's metrics stand together, in the order of the groups */
	{
		const struct eb_metric_group *g = eb_metric_groups;

		for (const struct eb_metric *m = eb_metrics; m->name; m++) {
			while (g->name && strcmp(g->name, m->group) != 0)
				g++;
			ck_assert_msg(g->name != NULL, "%s: group '%s' out of order", m->name,
				      m->group);
		}
		for (g = eb_metric_groups; g->name; g++)
			ck_assert_msg(g->title[0] && g->note && !strpbrk(g->note, "|\n"), "%s",
				      g->name);
	}
}
END_TEST

START_TEST(lookup)
{
	const struct eb_metric *m = eb_metric_find("power_avg_w:hwmon/VDD_IN");

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->name, "power_avg_w");
	ck_assert_ptr_eq(eb_metric_find("energy_decode_j:board"), eb_metric_find("energy_decode_j"));
	ck_assert_str_eq(eb_metric_find("mem_peak_mb:tegrastats/RAM")->name, "mem_peak_mb");
	/* a suffix is a sensor only for the families measured per sensor */
	ck_assert_ptr_null(eb_metric_find("ttft_ms:hwmon"));
	ck_assert_ptr_null(eb_metric_find("power_avg"));
	ck_assert_ptr_null(eb_metric_find("power_avg_w_x"));
	ck_assert_ptr_null(eb_metric_find(""));
	ck_assert_ptr_null(eb_metric_find("n_layers"));
	ck_assert_str_eq(eb_metric_find("kld_p99.9")->unit, "nats");
	ck_assert_str_eq(eb_metric_label_of("ttft_ms"), "TTFT");
	ck_assert_str_eq(eb_metric_label_of("power_avg_w"), "power_avg_w");
	ck_assert_str_eq(eb_metric_label_of("n_layers"), "n_layers");
	ck_assert_str_eq(eb_metric_unit_of("decode_tps"), "tok/s");
	ck_assert_str_eq(eb_metric_unit_of("idle_w:cpu/package-0"), "W");
	ck_assert_ptr_null(eb_metric_unit_of("n_layers"));
}
END_TEST

START_TEST(directions)
{
	static const struct {
		const char *name;
		enum eb_metric_dir dir;
	} want[] = {
		{ "decode_tps", EB_DIR_HIGHER },    { "prefill_tps", EB_DIR_HIGHER },
		{ "mbu", EB_DIR_HIGHER },           { "ttft_ms", EB_DIR_LOWER },
		{ "tpot_ms", EB_DIR_LOWER },        { "itl_ms", EB_DIR_LOWER },
		{ "e2e_ms", EB_DIR_LOWER },         { "kv_bytes", EB_DIR_LOWER },
		{ "peak_rss_mb", EB_DIR_LOWER },    { "j_per_token", EB_DIR_LOWER },
		{ "energy_decode_j", EB_DIR_LOWER }, { "power_avg_w:hwmon", EB_DIR_LOWER },
		{ "mem_peak_mb:nvml/mem", EB_DIR_LOWER }, { "idle_w", EB_DIR_NONE },
		{ "sampler_cpu_pct", EB_DIR_NONE }, { "ppl", EB_DIR_LOWER },
		{ "kld_mean", EB_DIR_LOWER },       { "acc", EB_DIR_HIGHER },
		{ "acc_norm", EB_DIR_HIGHER },      { "top1_agreement", EB_DIR_HIGHER },
		{ "dp_mean", EB_DIR_NONE },         { "dp_rms", EB_DIR_LOWER },
		{ "ppl_base", EB_DIR_NONE },        { "n_layers", EB_DIR_NONE },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(eb_metric_dir_of(want[i].name) == want[i].dir, "%s: %d, want %d",
			      want[i].name, eb_metric_dir_of(want[i].name), want[i].dir);
	ck_assert_str_eq(eb_metric_dir_name(EB_DIR_HIGHER), "higher");
	ck_assert_str_eq(eb_metric_dir_name(EB_DIR_LOWER), "lower");
	ck_assert_str_eq(eb_metric_dir_name(EB_DIR_NONE), "not judged");
}
END_TEST

static Suite *eb_suite(void)
{
	Suite *s = suite_create("metric");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, entries_complete);
	tcase_add_test(tc, lookup);
	tcase_add_test(tc, directions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return eb_test_main(eb_suite());
}
