/* tegrastats.c: one tegrastats line to struct eb_tegrastats_sample (see tegrastats.h). */
#include "tegrastats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EB_TS_MAX_TOKENS 512
#define EB_TS_EXCERPT 40

/* A whitespace-delimited token: [p, end). */
struct eb_ts_tok {
	const char *p, *end;
};

static int eb_ts_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int eb_ts_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static int eb_ts_isupper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int eb_ts_isnamechar(char c)
{
	return eb_ts_isdigit(c) || eb_ts_isupper(c) || (c >= 'a' && c <= 'z') || c == '_';
}

/* Token equals the NUL-terminated literal. */
static int eb_ts_tok_is(const struct eb_ts_tok *t, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(t->end - t->p) == n && memcmp(t->p, lit, n) == 0;
}

/* Matches `lit` at p (not past end); returns the position after it or NULL. */
static const char *eb_ts_lit(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if (!p || (size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

/*
 * Parses [-]digits[.digits] at p (not past end) into *v; returns the position after the
 * number or NULL. The span is copied out so strtod never sees "inf", hex or what follows.
 */
static const char *eb_ts_num(const char *p, const char *end, int allow_neg, int allow_frac,
			     double *v)
{
	char buf[64];
	const char *q = p;
	char *e;
	size_t n;
	double d;

	if (!p)
		return NULL;
	if (allow_neg && q < end && *q == '-')
		q++;
	if (q >= end || !eb_ts_isdigit(*q))
		return NULL;
	while (q < end && eb_ts_isdigit(*q))
		q++;
	if (allow_frac && q + 1 < end && *q == '.' && eb_ts_isdigit(q[1])) {
		q++;
		while (q < end && eb_ts_isdigit(*q))
			q++;
	}
	n = (size_t)(q - p);
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	d = strtod(buf, &e);
	if (errno || e != buf + n || !isfinite(d))
		return NULL;
	*v = d;
	return q;
}

/* Non-negative integer up to `max` at p; returns the position after it or NULL. */
static const char *eb_ts_int(const char *p, const char *end, long long max, long long *v)
{
	char buf[24];
	const char *q = p;
	char *e;
	size_t n;
	long long x;

	if (!p)
		return NULL;
	while (q < end && eb_ts_isdigit(*q))
		q++;
	n = (size_t)(q - p);
	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	x = strtoll(buf, &e, 10);
	if (errno || e != buf + n || x < 0 || x > max)
		return NULL;
	*v = x;
	return q;
}

/* Fixed-width decimal field (the timestamp's "MM", "YYYY"). */
static const char *eb_ts_fixed(const char *p, const char *end, size_t width, long long min,
			       long long max, int *v)
{
	long long x;
	const char *q;

	if (!p || (size_t)(end - p) < width)
		return NULL;
	for (size_t i = 0; i < width; i++)
		if (!eb_ts_isdigit(p[i]))
			return NULL;
	q = eb_ts_int(p, p + width, max, &x);
	if (!q || x < min)
		return NULL;
	*v = (int)x;
	return q;
}

/* "MM-DD-YYYY" "HH:MM:SS" */
static int eb_ts_parse_time(const struct eb_ts_tok *d, const struct eb_ts_tok *t,
			    struct eb_tegrastats_time *tm)
{
	const char *p;

	p = eb_ts_fixed(d->p, d->end, 2, 1, 12, &tm->mon);
	p = eb_ts_lit(p, d->end, "-");
	p = eb_ts_fixed(p, d->end, 2, 1, 31, &tm->day);
	p = eb_ts_lit(p, d->end, "-");
	p = eb_ts_fixed(p, d->end, 4, 0, 9999, &tm->year);
	if (p != d->end)
		return -1;
	p = eb_ts_fixed(t->p, t->end, 2, 0, 23, &tm->hour);
	p = eb_ts_lit(p, t->end, ":");
	p = eb_ts_fixed(p, t->end, 2, 0, 59, &tm->min);
	p = eb_ts_lit(p, t->end, ":");
	p = eb_ts_fixed(p, t->end, 2, 0, 60, &tm->sec);
	return p == t->end ? 0 : -1;
}

/* A size with unit, "4MB" / "512kB" / "2MB)", into kB; returns the position after the unit. */
static const char *eb_ts_size_kb(const char *p, const char *end, long long *kb)
{
	long long v;
	const char *q = eb_ts_int(p, end, 1LL << 40, &v);
	const char *r;

	if (!q)
		return NULL;
	r = eb_ts_lit(q, end, "MB");
	if (r) {
		*kb = v * 1024;
		return r;
	}
	r = eb_ts_lit(q, end, "kB");
	if (r) {
		*kb = v;
		return r;
	}
	return NULL;
}

/* "used/totalMB"; returns 0 when the whole token matched. */
static int eb_ts_used_total(const struct eb_ts_tok *t, long long *used, long long *total)
{
	const char *p = eb_ts_int(t->p, t->end, 1LL << 40, used);

	p = eb_ts_lit(p, t->end, "/");
	p = eb_ts_int(p, t->end, 1LL << 40, total);
	p = eb_ts_lit(p, t->end, "MB");
	return p == t->end ? 0 : -1;
}

/* RAM at tok[i] (the "RAM" token); returns tokens consumed (0: malformed). */
static size_t eb_ts_parse_ram(const struct eb_ts_tok *tok, size_t i, size_t n,
			      struct eb_tegrastats_sample *s)
{
	struct eb_tegrastats_ram *r = &s->ram;
	const char *p;

	if (i + 1 >= n || eb_ts_used_total(&tok[i + 1], &r->used_mb, &r->total_mb) != 0)
		return 0;
	s->flags |= EB_TEGRASTATS_HAS_RAM;
	if (i + 2 >= n || !eb_ts_tok_is(&tok[i + 2], "(lfb"))
		return 2;
	if (i + 3 >= n)
		return 2;
	p = eb_ts_int(tok[i + 3].p, tok[i + 3].end, 1LL << 40, &r->lfb_blocks);
	p = eb_ts_lit(p, tok[i + 3].end, "x");
	p = eb_ts_size_kb(p, tok[i + 3].end, &r->lfb_block_kb);
	p = eb_ts_lit(p, tok[i + 3].end, ")");
	if (p != tok[i + 3].end)
		return 2;
	s->flags |= EB_TEGRASTATS_HAS_LFB;
	return 4;
}

/* SWAP at tok[i]; returns tokens consumed (0: malformed). */
static size_t eb_ts_parse_swap(const struct eb_ts_tok *tok, size_t i, size_t n,
			       struct eb_tegrastats_sample *s)
{
	struct eb_tegrastats_swap *w = &s->swap;
	long long kb;
	const char *p;

	if (i + 1 >= n || eb_ts_used_total(&tok[i + 1], &w->used_mb, &w->total_mb) != 0)
		return 0;
	s->flags |= EB_TEGRASTATS_HAS_SWAP;
	w->cached_mb = -1;
	if (i + 3 >= n || !eb_ts_tok_is(&tok[i + 2], "(cached"))
		return 2;
	p = eb_ts_size_kb(tok[i + 3].p, tok[i + 3].end, &kb);
	p = eb_ts_lit(p, tok[i + 3].end, ")");
	if (p != tok[i + 3].end)
		return 2;
	w->cached_mb = kb / 1024;
	return 4;
}

/* One core "23%@2201", "23%" or "off". */
static int eb_ts_parse_core(const char *p, const char *end, struct eb_tegrastats_cpu *c)
{
	long long v;

	if (eb_ts_lit(p, end, "off") == end) {
		c->online = 0;
		c->load_pct = -1;
		c->freq_mhz = -1;
		return 0;
	}
	p = eb_ts_int(p, end, 100, &v);
	p = eb_ts_lit(p, end, "%");
	if (!p)
		return -1;
	c->online = 1;
	c->load_pct = (int)v;
	c->freq_mhz = -1;
	if (p == end)
		return 0;
	p = eb_ts_lit(p, end, "@");
	p = eb_ts_int(p, end, 1000000, &v);
	if (p != end)
		return -1;
	c->freq_mhz = (int)v;
	return 0;
}

/*
 * "[a,b,...]" or "[a,b,...]@F" (old format: one frequency for all cores). All-or-nothing:
 * a malformed list leaves n_cpus at 0 and returns -1.
 */
static int eb_ts_parse_cpus(const struct eb_ts_tok *t, struct eb_tegrastats_sample *s)
{
	const char *p = t->p, *close, *q;
	long long f = -1;
	size_t n = 0;

	if (p >= t->end || *p != '[')
		return -1;
	close = memchr(p, ']', (size_t)(t->end - p));
	if (!close)
		return -1;
	if (close + 1 < t->end) {
		q = eb_ts_lit(close + 1, t->end, "@");
		q = eb_ts_int(q, t->end, 1000000, &f);
		if (q != t->end)
			return -1;
	}
	p++;
	while (p < close) {
		const char *comma = memchr(p, ',', (size_t)(close - p));
		const char *e = comma ? comma : close;
		struct eb_tegrastats_cpu c;

		if (eb_ts_parse_core(p, e, &c) != 0) {
			s->n_cpus = 0;
			return -1;
		}
		if (c.online && c.freq_mhz < 0 && f >= 0)
			c.freq_mhz = (int)f;
		if (n < EB_TEGRASTATS_MAX_CPUS)
			s->cpus[n++] = c;
		else
			s->flags |= EB_TEGRASTATS_TRUNCATED;
		p = comma ? comma + 1 : close;
	}
	s->n_cpus = n;
	s->flags |= EB_TEGRASTATS_HAS_CPU;
	return 0;
}

/* "3%@3199", "0%@[0,0]", "@[1000,1000,1000]", "3%", "@1300". */
static int eb_ts_parse_engine(const struct eb_ts_tok *t, struct eb_tegrastats_engine *e,
			      unsigned *flags)
{
	struct eb_tegrastats_engine x = { .load_pct = -1, .freq_mhz = -1 };
	const char *p = t->p;
	long long v;

	if (p < t->end && eb_ts_isdigit(*p)) {
		p = eb_ts_int(p, t->end, 100, &v);
		p = eb_ts_lit(p, t->end, "%");
		if (!p)
			return -1;
		x.load_pct = (int)v;
	}
	if (p == t->end) {
		if (x.load_pct < 0)
			return -1;
		*e = x;
		return 0;
	}
	p = eb_ts_lit(p, t->end, "@");
	if (!p)
		return -1;
	if (p < t->end && *p == '[') {
		p++;
		for (;;) {
			p = eb_ts_int(p, t->end, 1000000, &v);
			if (!p)
				return -1;
			if (x.n_gpc < EB_TEGRASTATS_MAX_GPCS)
				x.gpc_mhz[x.n_gpc++] = (int)v;
			else
				*flags |= EB_TEGRASTATS_TRUNCATED;
			if ((int)v > x.freq_mhz)
				x.freq_mhz = (int)v;
			if (eb_ts_lit(p, t->end, ",")) {
				p++;
				continue;
			}
			p = eb_ts_lit(p, t->end, "]");
			break;
		}
	} else {
		p = eb_ts_int(p, t->end, 1000000, &v);
		if (p)
			x.freq_mhz = (int)v;
	}
	if (p != t->end)
		return -1;
	*e = x;
	return 0;
}

/* Copies a name token if it fits; 0 or -1. */
static int eb_ts_name(const char *p, const char *end, char dst[EB_TEGRASTATS_NAME_MAX + 1])
{
	size_t n = (size_t)(end - p);

	if (n == 0 || n > EB_TEGRASTATS_NAME_MAX)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* "name@42.5C" or "name@52.968C/52.968C"; returns 0 when the token is a temperature. */
static int eb_ts_parse_temp(const struct eb_ts_tok *t, struct eb_tegrastats_temp *tp)
{
	const char *at = memchr(t->p, '@', (size_t)(t->end - t->p));
	const char *p;
	double cur, mx = NAN;

	if (!at || at == t->p)
		return -1;
	for (p = t->p; p < at; p++)
		if (!eb_ts_isnamechar(*p) && *p != '-')
			return -1;
	p = eb_ts_num(at + 1, t->end, 1, 1, &cur);
	p = eb_ts_lit(p, t->end, "C");
	if (!p)
		return -1;
	if (p != t->end) {
		p = eb_ts_lit(p, t->end, "/");
		p = eb_ts_num(p, t->end, 1, 1, &mx);
		p = eb_ts_lit(p, t->end, "C");
		if (p != t->end)
			return -1;
	}
	if (eb_ts_name(t->p, at, tp->name) != 0)
		return -1;
	/* tegrastats prints -256C for a sensor it cannot read. */
	tp->valid = cur > -256.0;
	tp->celsius = tp->valid ? cur : NAN;
	tp->max_celsius = tp->valid && mx > -256.0 ? mx : NAN;
	return 0;
}

/* A rail name: upper-case letter first, then [A-Z0-9_]. */
static int eb_ts_is_rail_name(const struct eb_ts_tok *t)
{
	if (t->p >= t->end || !eb_ts_isupper(*t->p))
		return 0;
	for (const char *p = t->p; p < t->end; p++)
		if (!eb_ts_isdigit(*p) && !eb_ts_isupper(*p) && *p != '_')
			return 0;
	return 1;
}

/* "cur/avg", "curmW/avgmW" or "curmW/avgmW/maxmW" (units all present or all absent). */
static int eb_ts_parse_rail_value(const struct eb_ts_tok *t, struct eb_tegrastats_rail *r)
{
	long long v[3];
	int n = 0, units = -1;
	const char *p = t->p;

	for (;;) {
		const char *q;
		int u;

		if (n == 3)
			return -1;
		p = eb_ts_int(p, t->end, 1LL << 40, &v[n]);
		if (!p)
			return -1;
		n++;
		q = eb_ts_lit(p, t->end, "mW");
		u = q != NULL;
		if (q)
			p = q;
		if (units >= 0 && u != units)
			return -1;
		units = u;
		if (p == t->end)
			break;
		p = eb_ts_lit(p, t->end, "/");
		if (!p)
			return -1;
	}
	if (n < 2)
		return -1;
	r->flags = units ? EB_TEGRASTATS_RAIL_MW : 0;
	r->cur_mw = v[0];
	r->avg_mw = v[1];
	r->max_mw = -1;
	r->max_w = NAN;
	if (n == 3) {
		r->flags |= EB_TEGRASTATS_RAIL_MAX;
		r->max_mw = v[2];
		r->max_w = (double)v[2] / 1000.0;
	}
	r->cur_w = (double)v[0] / 1000.0;
	r->avg_w = (double)v[1] / 1000.0;
	return 0;
}

int eb_tegrastats_is_input_rail(const char *name)
{
	return name && (strcmp(name, "VDD_IN") == 0 || strcmp(name, "POM_5V_IN") == 0 ||
			strcmp(name, "VIN") == 0);
}

static void eb_ts_compute_total(struct eb_tegrastats_sample *s)
{
	static const char *const inputs[] = { "VDD_IN", "POM_5V_IN", "VIN" };
	struct eb_tegrastats_total *t = &s->total;
	int any = 0;

	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		for (size_t i = 0; i < s->n_rails; i++) {
			const struct eb_tegrastats_rail *r = &s->rails[i];

			if (strcmp(r->name, inputs[k]) != 0)
				continue;
			t->summed = 0;
			memcpy(t->source, r->name, sizeof(t->source));
			t->rails = (uint32_t)1 << i;
			t->cur_mw = r->cur_mw;
			t->avg_mw = r->avg_mw;
			t->max_mw = r->max_mw;
			t->cur_w = r->cur_w;
			t->avg_w = r->avg_w;
			t->max_w = r->max_w;
			s->flags |= EB_TEGRASTATS_HAS_TOTAL;
			return;
		}
	}
	t->summed = 1;
	memcpy(t->source, "sum", 4);
	t->max_mw = -1;
	t->max_w = NAN;
	for (size_t i = 0; i < s->n_rails; i++) {
		const struct eb_tegrastats_rail *r = &s->rails[i];

		if (r->flags & EB_TEGRASTATS_RAIL_NC)
			continue;
		t->rails |= (uint32_t)1 << i;
		t->cur_mw += r->cur_mw;
		t->avg_mw += r->avg_mw;
		any = 1;
	}
	if (!any) {
		memset(t, 0, sizeof(*t));
		return;
	}
	t->cur_w = (double)t->cur_mw / 1000.0;
	t->avg_w = (double)t->avg_mw / 1000.0;
	s->flags |= EB_TEGRASTATS_HAS_TOTAL;
}

/* A short printable excerpt of the line for error messages. */
static void eb_ts_excerpt(const char *line, char *buf, size_t n)
{
	size_t i = 0, j = 0;

	while (line[i] && eb_ts_isspace(line[i]))
		i++;
	for (; line[i] && j + 4 < n && j < EB_TS_EXCERPT; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\r' || c == '\n')
			break;
		buf[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (line[i] && line[i] != '\r' && line[i] != '\n' && j + 3 < n) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
}

int eb_tegrastats_parse_line(const char *line, struct eb_tegrastats_sample *out,
			     struct eb_err *err)
{
	struct eb_ts_tok tok[EB_TS_MAX_TOKENS];
	struct eb_tegrastats_sample *s = out;
	char excerpt[EB_TS_EXCERPT + 8];
	size_t n = 0, i = 0;
	const char *p;
	int ret = -1;

	if (!line || !out) {
		ret = eb_err_set(err, EB_EINVAL, "tegrastats: NULL line or sample");
		goto out;
	}
	memset(s, 0, sizeof(*s));
	s->swap.cached_mb = -1;
	s->emc.load_pct = s->emc.freq_mhz = -1;
	s->gr3d.load_pct = s->gr3d.freq_mhz = -1;

	for (p = line; *p;) {
		while (*p && eb_ts_isspace(*p))
			p++;
		if (!*p)
			break;
		if (n == EB_TS_MAX_TOKENS) {
			s->flags |= EB_TEGRASTATS_TRUNCATED;
			break;
		}
		tok[n].p = p;
		while (*p && !eb_ts_isspace(*p))
			p++;
		tok[n++].end = p;
	}

	if (n == 0) {
		ret = eb_err_set(err, EB_EPARSE, "not tegrastats output: empty line");
		goto out;
	}
	if (n >= 2 && eb_ts_parse_time(&tok[0], &tok[1], &s->time) == 0) {
		s->flags |= EB_TEGRASTATS_HAS_TIME;
		i = 2;
	}
	while (i < n) {
		const struct eb_ts_tok *t = &tok[i];
		size_t used = 0;

		if (eb_ts_tok_is(t, "RAM")) {
			used = eb_ts_parse_ram(tok, i, n, s);
		} else if (eb_ts_tok_is(t, "SWAP")) {
			used = eb_ts_parse_swap(tok, i, n, s);
		} else if ((eb_ts_tok_is(t, "CPU") || eb_ts_tok_is(t, "cpu")) && i + 1 < n &&
			   *tok[i + 1].p == '[') {
			used = eb_ts_parse_cpus(&tok[i + 1], s) == 0 ? 2 : 0;
		} else if ((eb_ts_tok_is(t, "EMC_FREQ") || eb_ts_tok_is(t, "EMC")) && i + 1 < n &&
			   !(s->flags & EB_TEGRASTATS_HAS_EMC)) {
			if (eb_ts_parse_engine(&tok[i + 1], &s->emc, &s->flags) == 0) {
				s->flags |= EB_TEGRASTATS_HAS_EMC;
				used = 2;
			}
		} else if ((eb_ts_tok_is(t, "GR3D_FREQ") || eb_ts_tok_is(t, "GR3D")) && i + 1 < n &&
			   !(s->flags & EB_TEGRASTATS_HAS_GR3D)) {
			if (eb_ts_parse_engine(&tok[i + 1], &s->gr3d, &s->flags) == 0) {
				s->flags |= EB_TEGRASTATS_HAS_GR3D;
				used = 2;
			}
		}
		if (used == 0 && memchr(t->p, '@', (size_t)(t->end - t->p))) {
			struct eb_tegrastats_temp tp;

			if (eb_ts_parse_temp(t, &tp) == 0) {
				if (s->n_temps < EB_TEGRASTATS_MAX_TEMPS)
					s->temps[s->n_temps++] = tp;
				else
					s->flags |= EB_TEGRASTATS_TRUNCATED;
				used = 1;
			}
		}
		if (used == 0 && i + 1 < n && eb_ts_is_rail_name(t)) {
			struct eb_tegrastats_rail r;

			memset(&r, 0, sizeof(r));
			if (eb_ts_name(t->p, t->end, r.name) == 0 &&
			    eb_ts_parse_rail_value(&tok[i + 1], &r) == 0) {
				if (strcmp(r.name, "NC") == 0)
					r.flags |= EB_TEGRASTATS_RAIL_NC;
				if (s->n_rails < EB_TEGRASTATS_MAX_RAILS)
					s->rails[s->n_rails++] = r;
				else
					s->flags |= EB_TEGRASTATS_TRUNCATED;
				used = 2;
			}
		}
		if (used == 0) {
			s->n_skipped++;
			used = 1;
		}
		i += used;
	}

	if (!(s->flags & (EB_TEGRASTATS_HAS_RAM | EB_TEGRASTATS_HAS_SWAP | EB_TEGRASTATS_HAS_CPU |
			  EB_TEGRASTATS_HAS_EMC | EB_TEGRASTATS_HAS_GR3D)) &&
	    s->n_rails == 0) {
		eb_ts_excerpt(line, excerpt, sizeof(excerpt));
		ret = eb_err_set(err, EB_EPARSE, "not tegrastats output: '%s'", excerpt);
		goto out;
	}
	eb_ts_compute_total(s);
	ret = 0;
out:
	return ret;
}

const struct eb_tegrastats_rail *eb_tegrastats_find_rail(const struct eb_tegrastats_sample *s,
							 const char *name)
{
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->n_rails; i++)
		if (strcmp(s->rails[i].name, name) == 0)
			return &s->rails[i];
	return NULL;
}

const struct eb_tegrastats_temp *eb_tegrastats_find_temp(const struct eb_tegrastats_sample *s,
							 const char *name)
{
	if (!s || !name)
		return NULL;
	for (size_t i = 0; i < s->n_temps; i++)
		if (strcmp(s->temps[i].name, name) == 0)
			return &s->temps[i];
	return NULL;
}
