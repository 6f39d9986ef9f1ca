/* sse.c: incremental Server-Sent Events parser (WHATWG event-stream rules, see sse.h). */
#include "sse.h"

#include <string.h>

/* Room a line may take beyond the event limit: the field name, colon and space. */
#define EB_SSE_LINE_SLACK 64

void eb_sse_init(struct eb_sse *sse, size_t max_event_bytes)
{
	if (max_event_bytes == 0)
		max_event_bytes = EB_SSE_MAX_EVENT_DEFAULT;
	memset(sse, 0, sizeof(*sse));
	sse->max_event_bytes = max_event_bytes;
	eb_buf_init(&sse->line, max_event_bytes + EB_SSE_LINE_SLACK);
	/* Every data line is stored with a '\n' after it; the last one is dropped. */
	eb_buf_init(&sse->data, max_event_bytes + 1);
	eb_buf_init(&sse->event, max_event_bytes);
}

void eb_sse_release(struct eb_sse *sse)
{
	eb_buf_release(&sse->line);
	eb_buf_release(&sse->data);
	eb_buf_release(&sse->event);
	sse->cr_pending = 0;
	sse->have_data = 0;
}

static int eb_sse_fail(struct eb_sse *sse, int code)
{
	sse->failed = 1;
	return code;
}

static int eb_sse_too_big(struct eb_sse *sse, struct eb_err *err)
{
	eb_err_set(err, EB_EPROTO, "sse event larger than the limit of %zu bytes",
		   sse->max_event_bytes);
	return eb_sse_fail(sse, EB_EPROTO);
}

static int eb_sse_dispatch(struct eb_sse *sse, eb_sse_event_cb cb, void *ud, struct eb_err *err)
{
	const char *name;
	int ret = 0;

	if (!sse->have_data)
		goto out;
	if (sse->data.len > 0) {
		sse->data.len--;
		sse->data.buf[sse->data.len] = '\0';
	}
	/* the name is a C string: one cut to nothing by a NUL byte is no name either */
	name = sse->event.buf[0] ? sse->event.buf : "message";
	sse->n_events++;
	ret = cb(ud, name, sse->data.buf, sse->data.len, err);
	if (ret != 0)
		eb_sse_fail(sse, ret);
out:
	eb_buf_reset(&sse->data);
	eb_buf_reset(&sse->event);
	sse->have_data = 0;
	return ret;
}

static int eb_sse_field_is(const char *field, size_t flen, const char *name)
{
	return flen == strlen(name) && memcmp(field, name, flen) == 0;
}

static int eb_sse_add_data(struct eb_sse *sse, const char *value, size_t vlen,
			   struct eb_err *err)
{
	if (eb_buf_add(&sse->data, value, vlen) != 0 || eb_buf_add(&sse->data, "\n", 1) != 0)
		return eb_sse_too_big(sse, err);
	sse->have_data = 1;
	return 0;
}

static int eb_sse_set_event(struct eb_sse *sse, const char *value, size_t vlen,
			    struct eb_err *err)
{
	eb_buf_reset(&sse->event);
	if (eb_buf_add(&sse->event, value, vlen) != 0)
		return eb_sse_too_big(sse, err);
	return 0;
}

/* One complete line, without its line end. */
static int eb_sse_line(struct eb_sse *sse, const char *line, size_t len, eb_sse_event_cb cb,
		       void *ud, struct eb_err *err)
{
	const char *colon;
	const char *value;
	size_t flen, vlen;
	int ret = 0;

	if (sse->n_lines == 0 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		len -= 3;
	}
	sse->n_lines++;
	if (len == 0) {
		ret = eb_sse_dispatch(sse, cb, ud, err);
		goto out;
	}
	if (line[0] == ':') {
		sse->n_comments++;
		goto out;
	}
	colon = memchr(line, ':', len);
	if (colon) {
		flen = (size_t)(colon - line);
		value = colon + 1;
		vlen = len - flen - 1;
		if (vlen > 0 && value[0] == ' ') {
			value++;
			vlen--;
		}
	} else {
		flen = len;
		value = "";
		vlen = 0;
	}
	if (eb_sse_field_is(line, flen, "data")) {
		ret = eb_sse_add_data(sse, value, vlen, err);
	} else if (eb_sse_field_is(line, flen, "event")) {
		ret = eb_sse_set_event(sse, value, vlen, err);
	} else if (eb_sse_field_is(line, flen, "error")) {
		/* llama-server's non-standard "error: {...}" line (see sse.h). */
		ret = eb_sse_set_event(sse, "error", 5, err);
		if (ret == 0)
			ret = eb_sse_add_data(sse, value, vlen, err);
	}
	/* id, retry and unknown fields are ignored, as the standard says. */
out:
	return ret;
}

int eb_sse_feed(struct eb_sse *sse, const char *data, size_t n, eb_sse_event_cb cb, void *ud,
		struct eb_err *err)
{
	size_t i = 0, j;
	int ret = 0;

	if (sse->failed)
		return eb_err_set(err, EB_EINVAL, "sse parser used after an error");
	while (i < n) {
		if (sse->cr_pending) {
			sse->cr_pending = 0;
			if (data[i] == '\n') {
				i++;
				continue;
			}
		}
		j = i;
		while (j < n && data[j] != '\n' && data[j] != '\r')
			j++;
		if (j > i && eb_buf_add(&sse->line, data + i, j - i) != 0) {
			eb_err_set(err, EB_EPROTO,
				   "sse line longer than the event limit of %zu bytes",
				   sse->max_event_bytes);
			ret = eb_sse_fail(sse, EB_EPROTO);
			goto out;
		}
		if (j == n)
			break;
		if (data[j] == '\r') {
			if (j + 1 < n && data[j + 1] == '\n')
				j++;
			else if (j + 1 == n)
				sse->cr_pending = 1;
		}
		i = j + 1;
		ret = eb_sse_line(sse, sse->line.buf, sse->line.len, cb, ud, err);
		eb_buf_reset(&sse->line);
		if (ret != 0)
			goto out;
	}
out:
	return ret;
}

int eb_sse_finish(struct eb_sse *sse, eb_sse_event_cb cb, void *ud, struct eb_err *err)
{
	int ret = 0;

	if (sse->failed)
		return eb_err_set(err, EB_EINVAL, "sse parser used after an error");
	sse->cr_pending = 0;
	if (sse->line.len > 0) {
		ret = eb_sse_line(sse, sse->line.buf, sse->line.len, cb, ud, err);
		eb_buf_reset(&sse->line);
		if (ret != 0)
			goto out;
	}
	ret = eb_sse_dispatch(sse, cb, ud, err);
out:
	return ret;
}
