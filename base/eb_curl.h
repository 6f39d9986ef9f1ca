/* eb_curl.h: the one way edgebench makes a libcurl handle, so every transfer follows one policy. */
#ifndef EB_CURL_H
#define EB_CURL_H

#include <curl/curl.h>

#include "eb_err.h"

/*
 * A new easy handle set up as every edgebench transfer (remote adapters, dataset
 * downloads) must be:
 * - libcurl initialised once per process, whichever thread asks first;
 * - http and https only, for the request and for every redirect: a URL or a Location
 *   naming file://, ftp:// or any other scheme fails the transfer before anything is
 *   read (CURLE_UNSUPPORTED_PROTOCOL);
 * - no signals (timeouts without SIGALRM, safe beside other threads);
 * - a proxy from the environment never carries loopback traffic (localhost, 127.0.0.1
 *   and ::1 join no_proxy/NO_PROXY).
 * Redirects are followed only where the caller sets CURLOPT_FOLLOWLOCATION. Returns 0
 * with *out the handle, which the caller frees with curl_easy_cleanup(); or EB_EIO when
 * libcurl cannot initialise or cannot hold to the policy, EB_ENOMEM, with `err` set and
 * *out NULL.
 */
int eb_curl_new(CURL **out, struct eb_err *err);

/* Why a transfer failed: libcurl's error buffer when it holds text, else the code's text. */
const char *eb_curl_why(CURLcode cc, const char *errbuf);

#endif
