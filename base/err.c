/* err.c: error record helpers (see eb_err.h). */
#include "eb_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void eb_err_clear(struct eb_err *err)
{
	if (!err)
		return;
	err->code = EB_OK;
	err->msg[0] = '\0';
}

int eb_err_set(struct eb_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int eb_err_prefix(struct eb_err *err, const char *fmt, ...)
{
	char old[EB_ERR_MSG_MAX];
	size_t n;
	va_list ap;

	if (!err)
		return EB_EINVAL;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 3);
		n += 2;
		old[sizeof(old) - 1] = '\0';
		strncat(err->msg, old, sizeof(err->msg) - n - 1);
	}
	return err->code;
}
