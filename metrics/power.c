/* power.c: per-rail/per-sensor/total energy over request windows and the idle baseline. */
#include "power.h"
#include "devstate.h"
#include "energy.h"
#include "stats.h"

#include "eb_clock.h"
#include "eb_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One rail's (or one sensor's summed) samples as arrays. */
struct eb_series {
	uint64_t *t;
	double *v;
	uint64_t *e;
	size_t n;
};

/* The trace regrouped for integration; built once per trace. */
struct eb_view {
	const struct eb_trace *tr;
	struct eb_series *rail; /* [n_rails] */
	struct eb_series *sum;  /* [n_sensors]: the summed rails, at each read */
	long *total_rail;       /* [n_sensors]: its EB_RAIL_TOTAL rail, or -1 */
	int *has_power;         /* [n_sensors] */
	int *included;          /* [n_rails]: goes into its sensor's sum */
};

static int eb_is_power(const struct eb_trace_rail *r)
{
	return !(r->flags & EB_RAIL_BYTES);
}

static void eb_view_free(struct eb_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; v->rail && i < v->tr->n_rails; i++) {
		free(v->rail[i].t);
		free(v->rail[i].v);
		free(v->rail[i].e);
	}
	for (size_t i = 0; v->sum && i < v->tr->n_sensors; i++) {
		free(v->sum[i].t);
		free(v->sum[i].v);
	}
	free(v->rail);
	free(v->sum);
	free(v->total_rail);
	free(v->has_power);
	free(v->included);
	free(v);
}

static struct eb_view *eb_view_new(const struct eb_trace *tr)
{
	struct eb_view *v = eb_xcalloc(1, sizeof(*v));
	size_t nr = tr->n_rails, ns = tr->n_sensors;
	size_t *count = eb_xcalloc(nr + 1, sizeof(*count));
	size_t *scount = eb_xcalloc(ns + 1, sizeof(*scount));
	size_t *group = eb_xcalloc(nr + 1, sizeof(*group)); /* group id + 1 a rail last joined */

	v->tr = tr;
	v->rail = eb_xcalloc(nr + 1, sizeof(*v->rail));
	v->sum = eb_xcalloc(ns + 1, sizeof(*v->sum));
	v->total_rail = eb_xcalloc(ns + 1, sizeof(*v->total_rail));
	v->has_power = eb_xcalloc(ns + 1, sizeof(*v->has_power));
	v->included = eb_xcalloc(nr + 1, sizeof(*v->included));
	for (size_t s = 0; s < ns; s++)
		v->total_rail[s] = -1;
	for (size_t r = 0; r < nr; r++) {
		const struct eb_trace_rail *tr_r = &tr->rails[r];

		if (!eb_is_power(tr_r))
			continue;
		v->has_power[tr_r->sensor] = 1;
		if ((tr_r->flags & EB_RAIL_TOTAL) && v->total_rail[tr_r->sensor] < 0)
			v->total_rail[tr_r->sensor] = (long)r;
	}
	for (size_t r = 0; r < nr; r++) {
		const struct eb_trace_rail *tr_r = &tr->rails[r];

		v->included[r] = eb_is_power(tr_r) && !(tr_r->flags & EB_RAIL_NOSUM) &&
				 v->total_rail[tr_r->sensor] < 0;
	}
	for (size_t i = 0; i < tr->n; i++) {
		uint32_t r = tr->samples[i].rail;

		count[r]++;
		if (v->included[r])
			scount[tr->rails[r].sensor]++;
	}
	for (size_t r = 0; r < nr; r++) {
		v->rail[r].t = eb_xmalloc((count[r] + 1) * sizeof(uint64_t));
		v->rail[r].v = eb_xmalloc((count[r] + 1) * sizeof(double));
		v->rail[r].e = eb_xmalloc((count[r] + 1) * sizeof(uint64_t));
	}
	for (size_t s = 0; s < ns; s++) {
		v->sum[s].t = eb_xmalloc((scount[s] + 1) * sizeof(uint64_t));
		v->sum[s].v = eb_xmalloc((scount[s] + 1) * sizeof(double));
	}
	for (size_t i = 0; i < tr->n; i++) {
		const struct eb_sample *x = &tr->samples[i];
		struct eb_series *se = &v->rail[x->rail];
		size_t s = tr->rails[x->rail].sensor;
		struct eb_series *sum = &v->sum[s];

		se->t[se->n] = x->t_ns;
		se->v[se->n] = x->value;
		se->e[se->n] = x->energy_uj;
		se->n++;
		if (!v->included[x->rail])
			continue;
		/* a read's rails share one stamp; a rail seen twice starts the next read */
		if (sum->n && sum->t[sum->n - 1] == x->t_ns && group[x->rail] != sum->n) {
			sum->v[sum->n - 1] += x->value;
		} else {
			sum->t[sum->n] = x->t_ns;
			sum->v[sum->n] = x->value;
			sum->n++;
		}
		group[x->rail] = sum->n;
	}
	free(count);
	free(scount);
	free(group);
	return v;
}

static void eb_window_nan(struct eb_power_window *w)
{
	memset(w, 0, sizeof(*w));
	w->net_j = NAN;
	w->avg_w = NAN;
	w->peak_w = NAN;
}

static void eb_figures_nan(struct eb_power_figures *f)
{
	eb_window_nan(&f->prefill);
	eb_window_nan(&f->decode);
	eb_window_nan(&f->request);
	f->idle_w = NAN;
	f->j_per_token = NAN;
	f->j_per_token_net = NAN;
	f->summed = 0;
}

/* One rail over [t0, t1]. */
static int eb_rail_window(const struct eb_view *v, size_t r, uint64_t t0, uint64_t t1,
			  double idle_w, struct eb_power_window *w, struct eb_err *err)
{
	const struct eb_series *se = &v->rail[r];
	struct eb_energy en;
	int ret;

	if (v->tr->rails[r].flags & EB_RAIL_COUNTER)
		ret = eb_energy_integrate_counter(se->t, se->e, se->n, 0, t0, t1, &en, err);
	else
		ret = eb_energy_integrate(se->t, se->v, se->n, t0, t1, &en, err);
	if (ret)
		return eb_err_prefix(err, "rail '%s/%s'", v->tr->sensors[v->tr->rails[r].sensor].name,
				     v->tr->rails[r].name);
	w->joules = en.joules;
	w->avg_w = en.avg_w;
	w->peak_w = en.peak_w;
	w->covered_s = en.covered_s;
	w->coverage = en.coverage;
	w->n_samples = en.n_samples;
	w->net_j = eb_energy_net_j(en.joules, idle_w, en.covered_s);
	return 0;
}

/* Adds window b into the running sum a (first = a is empty). */
static void eb_window_add(struct eb_power_window *a, const struct eb_power_window *b, int first,
			  int add_peaks)
{
	if (first) {
		*a = *b;
		return;
	}
	a->joules += b->joules;
	a->net_j += b->net_j;
	a->avg_w += b->avg_w;
	if (add_peaks)
		a->peak_w += b->peak_w;
	else if (isnan(a->peak_w) || b->peak_w > a->peak_w)
		a->peak_w = b->peak_w;
	if (b->covered_s < a->covered_s)
		a->covered_s = b->covered_s;
	if (b->coverage < a->coverage)
		a->coverage = b->coverage;
	a->n_samples += b->n_samples;
}

/* peak_w and n_samples of a sensor's summed series over [t0, t1]. */
static void eb_sum_peak(const struct eb_view *v, size_t s, uint64_t t0, uint64_t t1,
			struct eb_power_window *w)
{
	struct eb_energy en;

	if (eb_energy_integrate(v->sum[s].t, v->sum[s].v, v->sum[s].n, t0, t1, &en, NULL) == 0) {
		w->peak_w = en.peak_w;
		w->n_samples = en.n_samples;
	}
}

static double eb_idle_at(const double *arr, size_t n, size_t i)
{
	return arr && i < n ? arr[i] : NAN;
}

static void eb_per_token(struct eb_power_figures *f, long long n_decode)
{
	f->j_per_token = eb_energy_j_per_token(f->decode.joules, n_decode);
	f->j_per_token_net = eb_energy_j_per_token(f->decode.net_j, n_decode);
}

static int eb_request_view(const struct eb_view *v, const struct eb_power_idle *idle,
			   uint64_t t_send, uint64_t t_first, uint64_t t_last, long long n_decode,
			   struct eb_power_request *out, struct eb_err *err)
{
	const struct eb_trace *tr = v->tr;
	const uint64_t w0[3] = { t_send, t_first, t_send };
	const uint64_t w1[3] = { t_first, t_last, t_last };
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->n_rails = tr->n_rails;
	out->n_sensors = tr->n_sensors;
	out->rails = eb_xcalloc(tr->n_rails + 1, sizeof(*out->rails));
	out->sensors = eb_xcalloc(tr->n_sensors + 1, sizeof(*out->sensors));
	out->mem_peak = eb_xcalloc(tr->n_rails + 1, sizeof(*out->mem_peak));
	eb_figures_nan(&out->total);
	if (t_first < t_send || t_last < t_first) {
		ret = eb_err_set(err, EB_EINVAL, "power: request times out of order (send %llu, "
						 "first %llu, last %llu ns)",
				 (unsigned long long)t_send, (unsigned long long)t_first,
				 (unsigned long long)t_last);
		goto out;
	}
	for (size_t r = 0; r < tr->n_rails; r++) {
		struct eb_power_figures *f = &out->rails[r];
		struct eb_power_window *ws[3] = { &f->prefill, &f->decode, &f->request };

		eb_figures_nan(f);
		out->mem_peak[r] = NAN;
		if (!eb_is_power(&tr->rails[r])) {
			const struct eb_series *se = &v->rail[r];
			double m = NAN;

			for (size_t i = 0; i < se->n && se->t[i] <= t_last; i++)
				if (se->t[i] >= t_send || i + 1 == se->n || se->t[i + 1] > t_send)
					if (isnan(m) || se->v[i] > m)
						m = se->v[i];
			out->mem_peak[r] = m;
			continue;
		}
		f->idle_w = idle ? eb_idle_at(idle->rail_w, idle->n_rails, r) : NAN;
		for (int k = 0; k < 3; k++) {
			ret = eb_rail_window(v, r, w0[k], w1[k], f->idle_w, ws[k], err);
			if (ret)
				goto out;
		}
		eb_per_token(f, n_decode);
	}
	for (size_t s = 0; s < tr->n_sensors; s++) {
		struct eb_power_figures *f = &out->sensors[s];
		struct eb_power_window *ws[3] = { &f->prefill, &f->decode, &f->request };
		int first = 1;

		eb_figures_nan(f);
		if (!v->has_power[s])
			continue;
		if (v->total_rail[s] >= 0) {
			*f = out->rails[v->total_rail[s]];
		} else {
			for (size_t r = 0; r < tr->n_rails; r++) {
				if (tr->rails[r].sensor != s || !v->included[r])
					continue;
				for (int k = 0; k < 3; k++) {
					const struct eb_power_figures *rf = &out->rails[r];
					const struct eb_power_window *rw[3] = { &rf->prefill,
										&rf->decode,
										&rf->request };
					eb_window_add(ws[k], rw[k], first, 0);
				}
				first = 0;
			}
			for (int k = 0; k < 3; k++)
				eb_sum_peak(v, s, w0[k], w1[k], ws[k]);
			f->summed = 1;
			f->idle_w = idle ? eb_idle_at(idle->sensor_w, idle->n_sensors, s) : NAN;
			eb_per_token(f, n_decode);
		}
		if (!tr->sensors[s].in_total)
			continue;
		{
			struct eb_power_window *tw[3] = { &out->total.prefill, &out->total.decode,
							  &out->total.request };
			const struct eb_power_window *sw[3] = { &f->prefill, &f->decode,
								&f->request };

			for (int k = 0; k < 3; k++)
				eb_window_add(tw[k], sw[k], out->n_total == 0, 1);
			out->total.summed = out->n_total > 0 || f->summed;
			out->n_total++;
		}
	}
	if (out->n_total) {
		out->total.idle_w = idle ? idle->total_w : NAN;
		eb_per_token(&out->total, n_decode);
	}
out:
	return ret;
}

int eb_power_request(const struct eb_trace *t, const struct eb_power_idle *idle,
		     uint64_t t_send, uint64_t t_first, uint64_t t_last, long long n_decode,
		     struct eb_power_request *out, struct eb_err *err)
{
	struct eb_view *v = eb_view_new(t);
	int ret = eb_request_view(v, idle, t_send, t_first, t_last, n_decode, out, err);

	eb_view_free(v);
	return ret;
}

void eb_power_request_release(struct eb_power_request *r)
{
	free(r->rails);
	free(r->sensors);
	free(r->mem_peak);
	memset(r, 0, sizeof(*r));
}

static int eb_idle_view(const struct eb_view *v, uint64_t t0, uint64_t t1,
			struct eb_power_idle *out, struct eb_err *err)
{
	const struct eb_trace *tr = v->tr;
	int any = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->n_rails = tr->n_rails;
	out->n_sensors = tr->n_sensors;
	out->rail_w = eb_xcalloc(tr->n_rails + 1, sizeof(double));
	out->sensor_w = eb_xcalloc(tr->n_sensors + 1, sizeof(double));
	out->total_w = NAN;
	out->t0 = t0;
	out->t1 = t1;
	if (t1 < t0)
		return eb_err_set(err, EB_EINVAL, "power: idle window ends before it starts");
	out->window_s = (double)(t1 - t0) / 1e9;
	for (size_t r = 0; r < tr->n_rails; r++) {
		struct eb_power_window w;

		out->rail_w[r] = NAN;
		if (!eb_is_power(&tr->rails[r]))
			continue;
		ret = eb_rail_window(v, r, t0, t1, NAN, &w, err);
		if (ret)
			return ret;
		out->rail_w[r] = w.avg_w;
	}
	for (size_t s = 0; s < tr->n_sensors; s++) {
		double sum = NAN;

		if (v->total_rail[s] >= 0) {
			sum = out->rail_w[v->total_rail[s]];
		} else if (v->has_power[s]) {
			int first = 1;

			for (size_t r = 0; r < tr->n_rails; r++) {
				if (tr->rails[r].sensor != s || !v->included[r])
					continue;
				sum = first ? out->rail_w[r] : sum + out->rail_w[r];
				first = 0;
			}
		}
		out->sensor_w[s] = sum;
		if (v->has_power[s] && tr->sensors[s].in_total) {
			out->total_w = any ? out->total_w + sum : sum;
			any = 1;
		}
	}
	return 0;
}

int eb_power_idle(const struct eb_trace *t, uint64_t t0, uint64_t t1, struct eb_power_idle *out,
		  struct eb_err *err)
{
	struct eb_view *v = eb_view_new(t);
	int ret = eb_idle_view(v, t0, t1, out, err);

	eb_view_free(v);
	return ret;
}

void eb_power_idle_release(struct eb_power_idle *idle)
{
	free(idle->rail_w);
	free(idle->sensor_w);
	memset(idle, 0, sizeof(*idle));
}

/* --- per cell ------------------------------------------------------------------------ */

struct eb_power_cell {
	const struct eb_trace *tr;
	struct eb_view *view;
	struct eb_power_idle idle;
	int have_idle;
	struct eb_power_metric *m;
	size_t n_m, alloc_m;
	char **warn;
	size_t n_warn;
	int warned;
	size_t n_req, n_partial, n_summed;
	double min_cov;
	double *ttft_s;
};

static struct eb_power_metric *eb_metric(struct eb_power_cell *pc, const char *name,
					 const char *unit, int single)
{
	struct eb_power_metric *m;

	for (size_t i = 0; i < pc->n_m; i++)
		if (strcmp(pc->m[i].name, name) == 0)
			return &pc->m[i];
	if (pc->n_m == pc->alloc_m) {
		pc->alloc_m = pc->alloc_m ? 2 * pc->alloc_m : 32;
		pc->m = eb_xrealloc(pc->m, pc->alloc_m * sizeof(*pc->m));
	}
	m = &pc->m[pc->n_m++];
	memset(m, 0, sizeof(*m));
	eb_strlcpy(m->name, name, sizeof(m->name));
	m->unit = unit;
	m->single = single;
	m->detail = strchr(name, ':') != NULL;
	return m;
}

static void eb_metric_push(struct eb_power_cell *pc, const char *base, const char *suffix,
			   const char *unit, double x)
{
	char name[160];
	struct eb_power_metric *m;

	if (!isfinite(x))
		return;
	snprintf(name, sizeof(name), "%s%s%s", base, suffix ? ":" : "", suffix ? suffix : "");
	m = eb_metric(pc, name, unit, 0);
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? 2 * m->alloc : 8;
		m->values = eb_xrealloc(m->values, m->alloc * sizeof(double));
	}
	m->values[m->n++] = x;
}

/* A single-valued metric: kept as its maximum (mem) or its value (idle). */
static void eb_metric_single(struct eb_power_cell *pc, const char *base, const char *suffix,
			     const char *unit, double x)
{
	char name[160];
	struct eb_power_metric *m;

	if (!isfinite(x))
		return;
	snprintf(name, sizeof(name), "%s%s%s", base, suffix ? ":" : "", suffix ? suffix : "");
	m = eb_metric(pc, name, unit, 1);
	if (!m->values) {
		m->values = eb_xmalloc(sizeof(double));
		m->alloc = 1;
	}
	if (m->n == 0 || x > m->values[0])
		m->values[0] = x;
	m->n = 1;
}

static void eb_push_figures(struct eb_power_cell *pc, const struct eb_power_figures *f,
			    const char *suffix, int full)
{
	eb_metric_push(pc, "energy_prefill_j", suffix, "J", f->prefill.joules);
	eb_metric_push(pc, "energy_decode_j", suffix, "J", f->decode.joules);
	eb_metric_push(pc, "j_per_token", suffix, "J/token", f->j_per_token);
	eb_metric_push(pc, "power_avg_w", suffix, "W", f->request.avg_w);
	eb_metric_push(pc, "power_peak_w", suffix, "W", f->request.peak_w);
	if (!full)
		return;
	eb_metric_push(pc, "energy_request_j", suffix, "J", f->request.joules);
	eb_metric_push(pc, "power_prefill_w", suffix, "W", f->prefill.avg_w);
	eb_metric_push(pc, "power_decode_w", suffix, "W", f->decode.avg_w);
	eb_metric_push(pc, "energy_prefill_net_j", suffix, "J", f->prefill.net_j);
	eb_metric_push(pc, "energy_decode_net_j", suffix, "J", f->decode.net_j);
	eb_metric_push(pc, "energy_request_net_j", suffix, "J", f->request.net_j);
	eb_metric_push(pc, "j_per_token_net", suffix, "J/token", f->j_per_token_net);
	eb_metric_push(pc, "power_avg_net_w", suffix, "W", f->request.avg_w - f->idle_w);
}

int eb_power_cell_new(struct eb_power_cell **out, const struct eb_trace *t,
		      const struct eb_power_idle *idle, struct eb_err *err)
{
	struct eb_power_cell *pc = eb_xcalloc(1, sizeof(*pc));

	pc->tr = t;
	pc->view = eb_view_new(t);
	pc->min_cov = 1;
	if (idle) {
		pc->have_idle = 1;
		pc->idle = *idle;
		pc->idle.rail_w = eb_xcalloc(idle->n_rails + 1, sizeof(double));
		pc->idle.sensor_w = eb_xcalloc(idle->n_sensors + 1, sizeof(double));
		memcpy(pc->idle.rail_w, idle->rail_w, idle->n_rails * sizeof(double));
		memcpy(pc->idle.sensor_w, idle->sensor_w, idle->n_sensors * sizeof(double));
		eb_metric_single(pc, "idle_w", NULL, "W", idle->total_w);
		for (size_t r = 0; r < t->n_rails && r < idle->n_rails; r++) {
			char rail[128];

			snprintf(rail, sizeof(rail), "%s/%s", t->sensors[t->rails[r].sensor].name,
				 t->rails[r].name);
			eb_metric_single(pc, "idle_w", rail, "W", idle->rail_w[r]);
		}
	}
	*out = pc;
	(void)err;
	return 0;
}

int eb_power_cell_add(struct eb_power_cell *pc, uint64_t t_send, uint64_t t_first,
		      uint64_t t_last, long long n_decode, struct eb_err *err)
{
	const struct eb_trace *t = pc->tr;
	struct eb_power_request rq;
	size_t n_power_sensors = 0;
	int ret;

	ret = eb_request_view(pc->view, pc->have_idle ? &pc->idle : NULL, t_send, t_first, t_last,
			      n_decode, &rq, err);
	if (ret) {
		eb_power_request_release(&rq);
		return ret;
	}
	pc->n_req++;
	pc->ttft_s = eb_xrealloc(pc->ttft_s, pc->n_req * sizeof(double));
	pc->ttft_s[pc->n_req - 1] = (double)(t_first - t_send) / 1e9;
	if (rq.n_total) {
		double cov = rq.total.prefill.coverage < rq.total.decode.coverage
				     ? rq.total.prefill.coverage
				     : rq.total.decode.coverage;

		eb_push_figures(pc, &rq.total, NULL, 1);
		if (cov < 0.99)
			pc->n_partial++;
		if (cov < pc->min_cov)
			pc->min_cov = cov;
		if (rq.total.summed)
			pc->n_summed++;
	}
	for (size_t s = 0; s < t->n_sensors; s++)
		n_power_sensors += pc->view->has_power[s];
	for (size_t s = 0; n_power_sensors > 1 && s < t->n_sensors; s++)
		if (pc->view->has_power[s])
			eb_push_figures(pc, &rq.sensors[s], t->sensors[s].name, 0);
	for (size_t r = 0; r < t->n_rails; r++) {
		char rail[128];

		snprintf(rail, sizeof(rail), "%s/%s", t->sensors[t->rails[r].sensor].name,
			 t->rails[r].name);
		if (eb_is_power(&t->rails[r]))
			eb_push_figures(pc, &rq.rails[r], rail, 0);
		else
			eb_metric_single(pc, "mem_peak_mb", rail, "MiB",
					 rq.mem_peak[r] / 1048576.0);
	}
	eb_power_request_release(&rq);
	return 0;
}

size_t eb_power_cell_n_metrics(const struct eb_power_cell *pc)
{
	return pc->n_m;
}

const struct eb_power_metric *eb_power_cell_metric(const struct eb_power_cell *pc, size_t i)
{
	return i < pc->n_m ? &pc->m[i] : NULL;
}

static void eb_cell_warn(struct eb_power_cell *pc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void eb_cell_warn(struct eb_power_cell *pc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pc->warn = eb_xrealloc(pc->warn, (pc->n_warn + 1) * sizeof(*pc->warn));
	pc->warn[pc->n_warn++] = eb_xstrdup(msg);
}

/* Median spacing of the all-sensors total's samples (its first sensor), seconds; NAN. */
static double eb_cell_spacing(const struct eb_power_cell *pc)
{
	const struct eb_view *v = pc->view;

	for (size_t s = 0; s < pc->tr->n_sensors; s++) {
		const struct eb_series *se;
		double *d, med;

		if (!v->has_power[s] || !pc->tr->sensors[s].in_total)
			continue;
		se = v->total_rail[s] >= 0 ? &v->rail[v->total_rail[s]] : &v->sum[s];
		if (se->n < 2)
			return NAN;
		d = eb_xmalloc((se->n - 1) * sizeof(double));
		for (size_t i = 1; i < se->n; i++)
			d[i - 1] = (double)(se->t[i] - se->t[i - 1]) / 1e9;
		{
			struct eb_summary sum;
			med = eb_stats_summarize(d, se->n - 1, &sum) == 0 ? sum.median : NAN;
		}
		free(d);
		return med;
	}
	return NAN;
}

size_t eb_power_cell_n_warnings(struct eb_power_cell *pc)
{
	size_t n_total = 0;

	if (pc->warned)
		return pc->n_warn;
	pc->warned = 1;
	for (size_t s = 0; s < pc->tr->n_sensors; s++)
		n_total += pc->view->has_power[s] && pc->tr->sensors[s].in_total;
	if (n_total == 0) {
		eb_cell_warn(pc, "power: no sensor reported a power rail; no energy figures");
		return pc->n_warn;
	}
	if (pc->n_partial)
		eb_cell_warn(pc,
			     "power: %zu of %zu requests have prefill or decode windows only "
			     "partly covered by samples (lowest %.0f%%): their energy covers the "
			     "sampled part only",
			     pc->n_partial, pc->n_req, 100 * pc->min_cov);
	if (pc->n_summed)
		eb_cell_warn(pc, "power: the total is a sum of rails or sensors, not a measured "
				 "board input: a lower bound of the device's draw");
	if (pc->n_req) {
		struct eb_summary sum;
		double spacing = eb_cell_spacing(pc);

		if (eb_stats_summarize(pc->ttft_s, pc->n_req, &sum) == 0 && isfinite(spacing) &&
		    sum.median < 2 * spacing)
			eb_cell_warn(pc,
				     "power: prefill windows (median %.1f ms) are shorter than two "
				     "sample intervals (2 x %.1f ms): prefill energy is interpolated "
				     "between samples",
				     sum.median * 1e3, spacing * 1e3);
	}
	return pc->n_warn;
}

const char *eb_power_cell_warning(struct eb_power_cell *pc, size_t i)
{
	return i < eb_power_cell_n_warnings(pc) ? pc->warn[i] : NULL;
}

void eb_power_cell_free(struct eb_power_cell *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < pc->n_m; i++)
		free(pc->m[i].values);
	free(pc->m);
	for (size_t i = 0; i < pc->n_warn; i++)
		free(pc->warn[i]);
	free(pc->warn);
	free(pc->ttft_s);
	if (pc->have_idle)
		eb_power_idle_release(&pc->idle);
	eb_view_free(pc->view);
	free(pc);
}

/* --- one cell's measurement --------------------------------------------------------- */

static void eb_power_warn(json_t *warnings, const char *prefix, const char *msg)
{
	char buf[1200];

	snprintf(buf, sizeof(buf), "%s%s", prefix, msg);
	if (warnings)
		json_array_append_new(warnings, json_string(buf));
}

int eb_power_begin(struct eb_power_run *pr, const struct eb_power_opts *o, volatile int *stop,
		   json_t *warnings)
{
	struct eb_sampler_opts so = { .interval_ms = o->interval_ms };
	json_t *skipped = json_array(), *v;
	struct eb_err err;
	uint64_t i0, i1;
	size_t k;
	int ret = 0;

	if (o->cooldown_s > 0)
		eb_clock_sleep_ns((uint64_t)(o->cooldown_s * 1e9), stop);
	if (o->cooldown_zone) {
		ret = eb_devstate_cooldown(o->root, o->cooldown_zone, o->cooldown_below_c,
					   o->cooldown_timeout_s, stop, NULL, &err);
		if (ret && ret != EB_EINTR)
			eb_power_warn(warnings, "cool-down: ", err.msg);
		ret = ret == EB_EINTR ? EB_EINTR : 0;
	}
	if (stop && *stop)
		ret = EB_EINTR;
	if (ret || !o->sensors)
		goto out;
	if (eb_sampler_new(&pr->smp, &so, &err) != 0 ||
	    eb_sampler_add_config(pr->smp, o->sensors, o->root, skipped, &err) != 0)
		eb_power_warn(warnings, "power: ", err.msg);
	json_array_foreach(skipped, k, v)
		eb_power_warn(warnings, "power: ", json_string_value(v));
	if (!pr->smp || eb_sampler_n_sensors(pr->smp) == 0)
		goto out;
	if (o->idle_s > 0) {
		if (eb_sampler_run_for(pr->smp, o->idle_s, stop, &i0, &i1, &err) != 0)
			eb_power_warn(warnings, "power: ", err.msg);
		else if (eb_power_idle(eb_sampler_trace(pr->smp), i0, i1, &pr->idle, &err) != 0)
			eb_power_warn(warnings, "power: idle baseline: ", err.msg);
		else
			pr->have_idle = 1;
		if (stop && *stop) {
			ret = EB_EINTR;
			goto out;
		}
	}
	if (eb_sampler_start(pr->smp, &err) != 0)
		eb_power_warn(warnings, "power: ", err.msg);
out:
	json_decref(skipped);
	return ret;
}

void eb_power_end(struct eb_power_run *pr)
{
	if (pr->smp)
		eb_sampler_stop(pr->smp);
}

void eb_power_release(struct eb_power_run *pr)
{
	eb_sampler_free(pr->smp);
	if (pr->have_idle)
		eb_power_idle_release(&pr->idle);
	memset(pr, 0, sizeof(*pr));
}
