/* request.c: reading a request: path parameters, headers, query arguments and cookies. */
#include "http_int.h"

const char *http_param(const struct http_req *r, size_t i)
{
    return i < r->n_params ? r->params[i] : NULL;
}

const char *http_header(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}
