/*
 * common/error.c — names and formatting for sc_err.
 */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const names[SC_ERR__COUNT] = {
    [SC_OK] = "ok",
    [SC_ERR_NOMEM] = "nomem",
    [SC_ERR_INVALID] = "invalid",
    [SC_ERR_JSON] = "bad_json",
    [SC_ERR_TOO_BIG] = "too_big",
    [SC_ERR_TOO_DEEP] = "too_deep",
    [SC_ERR_POINTER] = "bad_pointer",
    [SC_ERR_PATCH] = "bad_patch",
    [SC_ERR_TEST] = "test_failed",
    [SC_ERR_NOT_FOUND] = "not_found",
    [SC_ERR_TOPIC] = "bad_topic",
    [SC_ERR_CURSOR] = "bad_cursor",
    [SC_ERR_BUSY] = "busy",
    [SC_ERR_STORE] = "store_error",
    [SC_ERR_SCHEMA] = "schema_too_new",
    [SC_ERR_READONLY] = "readonly",
    [SC_ERR_REJECTED] = "rejected",
    [SC_ERR_FORBIDDEN] = "forbidden",
    [SC_ERR_IO] = "io_error",
    [SC_ERR_HANDLER] = "handler_failed",
};

const char *sc_strerror(sc_err code)
{
	if ((unsigned)code >= SC_ERR__COUNT || names[code] == NULL)
		return "unknown";
	return names[code];
}

void sc_error_clear(sc_error *err)
{
	if (err == NULL)
		return;
	err->code = SC_OK;
	err->index = -1;
	err->message[0] = '\0';
}

sc_err sc_error_set(sc_error *err, sc_err code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->index = -1;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}
