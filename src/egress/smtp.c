/* smtp.c: sending one mail through the administrator's SMTP relay with libcurl: STARTTLS when
 * the relay offers it (or required, or never), login from the URL's user information, bounded in
 * time. The relay is configured by the administrator, not by users, so it is not subject to the
 * public-address guard; it is still the one place mail leaves the server. */
#include "egress.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct reader {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *out, size_t size, size_t n, void *arg)
{
    struct reader *r = arg;
    size_t want = size * n, left = r->len - r->off;
    if (want > left)
        want = left;
    memcpy(out, r->data + r->off, want);
    r->off += want;
    return want;
}

int egress_smtp_send(const struct egress_smtp *relay, const char *from, const char *to,
                     const char *message, size_t len, char err[160])
{
    err[0] = '\0';
    if (egress_init()) {
        snprintf(err, 160, "cannot initialise libcurl");
        return -ERR_INTERNAL;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, 160, "cannot initialise libcurl");
        return -ERR_INTERNAL;
    }
    struct reader r = {message, len, 0};
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, relay->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     relay->tls == EGRESS_SMTP_TLS_REQUIRE ? CURLUSESSL_ALL
                     : relay->tls == EGRESS_SMTP_TLS_NONE  ? CURLUSESSL_NONE
                                                           : CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK)
        return 0;
    snprintf(err, 160, "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    /* a relay's permanent refusal (5xx) is not worth retrying; anything else is */
    return code >= 500 && code < 600 ? -ERR_BAD_REQUEST : -ERR_UNAVAILABLE;
}
