/* energy.c: trapezoid and counter-based energy over a window (see energy.h). */
#include "energy.h"

#include <math.h>
#include <string.h>

#define EB_NS_PER_S 1e9

static void eb_energy_zero(struct eb_energy *e)
{
	memset(e, 0, sizeof(*e));
	e->avg_w = NAN;
	e->peak_w = NAN;
}

static double eb_ns_to_s(uint64_t ns)
{
	return (double)ns / EB_NS_PER_S;
}

/* Checks the window and the stamps, counts samples inside; fills window_s and n_samples. */
static int eb_energy_check(const uint64_t *t_ns, const void *vals, size_t n, uint64_t t0,
			   uint64_t t1, struct eb_energy *out, struct eb_err *err)
{
	if (t1 < t0)
		return eb_err_set(err, EB_EINVAL, "energy window ends before it starts (%llu < %llu ns)",
				  (unsigned long long)t1, (unsigned long long)t0);
	if (n > 0 && (!t_ns || !vals))
		return eb_err_set(err, EB_EINVAL, "energy: NULL sample arrays with n = %zu", n);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && t_ns[i] < t_ns[i - 1])
			return eb_err_set(err, EB_EINVAL,
					  "energy: sample %zu goes back in time (%llu < %llu ns)", i,
					  (unsigned long long)t_ns[i], (unsigned long long)t_ns[i - 1]);
		if (t_ns[i] >= t0 && t_ns[i] <= t1)
			out->n_samples++;
	}
	out->window_s = eb_ns_to_s(t1 - t0);
	return 0;
}

/* Power at time x inside [t[0], t[n-1]], interpolating between samples. */
static double eb_power_at(const uint64_t *t, const double *w, size_t n, uint64_t x)
{
	size_t i = 0;

	while (i < n && t[i] < x)
		i++;
	if (i == n)
		return w[n - 1];
	if (t[i] == x || i == 0)
		return w[i];
	return w[i - 1] + (w[i] - w[i - 1]) * ((double)(x - t[i - 1]) / (double)(t[i] - t[i - 1]));
}

static double eb_max(double a, double b)
{
	if (isnan(a))
		return b;
	return b > a ? b : a;
}

int eb_energy_integrate(const uint64_t *t_ns, const double *watts, size_t n, uint64_t t0_ns,
			uint64_t t1_ns, struct eb_energy *out, struct eb_err *err)
{
	uint64_t a, b;
	double joules = 0, peak = NAN;
	int ret = -1;

	if (!out) {
		ret = eb_err_set(err, EB_EINVAL, "energy: NULL result");
		goto out;
	}
	eb_energy_zero(out);
	ret = eb_energy_check(t_ns, watts, n, t0_ns, t1_ns, out, err);
	if (ret != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(watts[i])) {
			ret = eb_err_set(err, EB_EINVAL, "energy: sample %zu is not a finite power", i);
			goto out;
		}
	}
	ret = 0;
	if (n == 0)
		goto out;
	a = t0_ns > t_ns[0] ? t0_ns : t_ns[0];
	b = t1_ns < t_ns[n - 1] ? t1_ns : t_ns[n - 1];
	if (a > b)
		goto out;
	if (a == b) {
		/* The window touches the trace at one instant: no duration, no energy. */
		out->peak_w = eb_power_at(t_ns, watts, n, a);
		if (t0_ns == t1_ns) {
			out->coverage = 1;
			out->avg_w = out->peak_w;
		}
		goto out;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t lo = t_ns[i], hi = t_ns[i + 1], sa, sb;
		double slope, pa, pb;

		if (hi == lo || hi <= a || lo >= b)
			continue;
		sa = lo > a ? lo : a;
		sb = hi < b ? hi : b;
		slope = (watts[i + 1] - watts[i]) / (double)(hi - lo);
		pa = watts[i] + slope * (double)(sa - lo);
		pb = watts[i] + slope * (double)(sb - lo);
		if (sa == lo)
			pa = watts[i];
		if (sb == hi)
			pb = watts[i + 1];
		joules += 0.5 * (pa + pb) * eb_ns_to_s(sb - sa);
		peak = eb_max(peak, eb_max(pa, pb));
	}
	out->joules = joules;
	out->peak_w = peak;
	out->covered_s = eb_ns_to_s(b - a);
	out->coverage = out->covered_s / out->window_s;
	out->avg_w = joules / out->covered_s;
out:
	if (ret != 0 && out)
		eb_energy_zero(out);
	return ret;
}

int eb_energy_counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range_uj,
			    uint64_t *delta_uj, struct eb_err *err)
{
	int ret = -1;

	*delta_uj = 0;
	if (max_range_uj > 0 && (prev > max_range_uj || cur > max_range_uj)) {
		ret = eb_err_set(err, EB_EINVAL, "energy counter read %llu uJ exceeds its range %llu uJ",
				 (unsigned long long)(prev > cur ? prev : cur),
				 (unsigned long long)max_range_uj);
		goto out;
	}
	if (cur < prev && max_range_uj == 0) {
		ret = eb_err_set(err, EB_EINVAL,
				 "energy counter went back from %llu to %llu uJ with no known range",
				 (unsigned long long)prev, (unsigned long long)cur);
		goto out;
	}
	*delta_uj = cur >= prev ? cur - prev : (max_range_uj - prev) + cur;
	ret = 0;
out:
	return ret;
}

int eb_energy_counter_total(const uint64_t *counter_uj, size_t n, uint64_t max_range_uj,
			    double *joules, size_t *n_wraps, struct eb_err *err)
{
	uint64_t d = 0;
	double sum = 0;
	size_t wraps = 0;
	int ret = -1;

	if (!joules || (n > 0 && !counter_uj)) {
		ret = eb_err_set(err, EB_EINVAL, "energy counter: NULL argument");
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		ret = eb_energy_counter_delta(counter_uj[i - 1], counter_uj[i], max_range_uj, &d, err);
		if (ret != 0) {
			eb_err_prefix(err, "read %zu", i);
			goto out;
		}
		if (counter_uj[i] < counter_uj[i - 1])
			wraps++;
		sum += (double)d / 1e6;
	}
	ret = 0;
out:
	if (joules)
		*joules = ret == 0 ? sum : 0;
	if (n_wraps)
		*n_wraps = ret == 0 ? wraps : 0;
	return ret;
}

int eb_energy_integrate_counter(const uint64_t *t_ns, const uint64_t *counter_uj, size_t n,
				uint64_t max_range_uj, uint64_t t0_ns, uint64_t t1_ns,
				struct eb_energy *out, struct eb_err *err)
{
	uint64_t a = 0, b = 0, d = 0;
	double joules = 0, peak = NAN;
	int have = 0, ret = -1;

	if (!out) {
		ret = eb_err_set(err, EB_EINVAL, "energy: NULL result");
		goto out;
	}
	eb_energy_zero(out);
	ret = eb_energy_check(t_ns, counter_uj, n, t0_ns, t1_ns, out, err);
	if (ret != 0)
		goto out;
	if (n > 0) {
		a = t0_ns > t_ns[0] ? t0_ns : t_ns[0];
		b = t1_ns < t_ns[n - 1] ? t1_ns : t_ns[n - 1];
		have = a <= b;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t lo = t_ns[i], hi = t_ns[i + 1], sa, sb;
		double dj, p;

		ret = eb_energy_counter_delta(counter_uj[i], counter_uj[i + 1], max_range_uj, &d, err);
		if (ret != 0) {
			eb_err_prefix(err, "read %zu", i + 1);
			goto out;
		}
		if (hi == lo) {
			if (d != 0) {
				ret = eb_err_set(err, EB_EINVAL,
						 "energy counter moved between reads %zu and %zu "
						 "taken at the same time",
						 i, i + 1);
				goto out;
			}
			continue;
		}
		if (!have || hi < a || lo > b)
			continue;
		dj = (double)d / 1e6;
		p = dj / eb_ns_to_s(hi - lo);
		if (a == b) {
			/* One instant: the power of the interval holding it. */
			if (isnan(out->peak_w))
				out->peak_w = p;
			continue;
		}
		if (hi == a || lo == b)
			continue;
		sa = lo > a ? lo : a;
		sb = hi < b ? hi : b;
		joules += dj * ((double)(sb - sa) / (double)(hi - lo));
		peak = eb_max(peak, p);
	}
	ret = 0;
	if (!have)
		goto out;
	if (a == b) {
		if (t0_ns == t1_ns && n > 0 && !isnan(out->peak_w)) {
			out->coverage = 1;
			out->avg_w = out->peak_w;
		}
		goto out;
	}
	out->joules = joules;
	out->peak_w = peak;
	out->covered_s = eb_ns_to_s(b - a);
	out->coverage = out->covered_s / out->window_s;
	out->avg_w = joules / out->covered_s;
out:
	if (ret != 0 && out)
		eb_energy_zero(out);
	return ret;
}

double eb_energy_net_j(double joules, double idle_w, double duration_s)
{
	return joules - idle_w * duration_s;
}

double eb_energy_j_per_token(double decode_j, long long n_decode)
{
	if (n_decode <= 0)
		return NAN;
	return decode_j / (double)n_decode;
}
