/* curl.c: libcurl handles with edgebench's one transfer policy (see eb_curl.h). */
#include "eb_curl.h"
#include "eb_util.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_once_t eb_curl_once = PTHREAD_ONCE_INIT;
static CURLcode eb_curl_global_rc;

static void eb_curl_global_init(void)
{
	eb_curl_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* http and https only, for the request and any redirect; CURLE_OK when libcurl took it. */
static CURLcode eb_curl_protocols(CURL *c)
{
	CURLcode rc;

#if LIBCURL_VERSION_NUM >= 0x075500
	/* 7.85 deprecates the bitmasks in favour of these */
	rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
				      (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	return rc;
}

int eb_curl_new(CURL **out, struct eb_err *err)
{
	struct eb_buf noproxy;
	const char *env;
	CURLcode rc;
	CURL *c;

	*out = NULL;
	pthread_once(&eb_curl_once, eb_curl_global_init);
	if (eb_curl_global_rc != CURLE_OK)
		return eb_err_set(err, EB_EIO, "cannot initialise libcurl: %s",
				  curl_easy_strerror(eb_curl_global_rc));
	c = curl_easy_init();
	if (!c)
		return eb_err_set(err, EB_ENOMEM, "out of memory setting up libcurl");
	/* a transfer that would go unrestricted is not started at all */
	rc = eb_curl_protocols(c);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(c);
		return eb_err_set(err, EB_EIO, "libcurl cannot limit transfers to http and https: %s",
				  curl_easy_strerror(rc));
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* CURLOPT_NOPROXY replaces the environment's list, so that list comes first */
	eb_buf_init(&noproxy, 0);
	env = getenv("no_proxy");
	if (!env || !*env)
		env = getenv("NO_PROXY");
	if (env && *env)
		eb_buf_addf(&noproxy, "%s,", env);
	eb_buf_addstr(&noproxy, "localhost,127.0.0.1,::1");
	curl_easy_setopt(c, CURLOPT_NOPROXY, noproxy.buf); /* copied by libcurl */
	eb_buf_release(&noproxy);
	*out = c;
	return 0;
}

const char *eb_curl_why(CURLcode cc, const char *errbuf)
{
	return errbuf && errbuf[0] ? errbuf : curl_easy_strerror(cc);
}
