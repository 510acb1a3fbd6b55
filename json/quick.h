/*
 * json/quick.h — a quick parse of the common JSON texts (an object or an
 * array of plain strings, integers, literals, a few levels deep), for
 * sc_json_parse.  Prefix sc_json_quick_.
 */
#ifndef SC_JSON_QUICK_H
#define SC_JSON_QUICK_H

#include <stddef.h>

#include <json-c/json.h>

/*
 * Parses the len bytes at buf (len <= INT_MAX) when they are of the
 * subset json/quick.c describes: 1 and *out the value, as json-c's
 * tokener would build it; 0 when they are not (the text may still be
 * valid JSON, or not: the caller parses it the full way); -1 when out of
 * memory.
 */
int sc_json_quick_parse(const char *buf, size_t len, json_object **out);

/* The length of the well-formed UTF-8 sequence at s (n > 0 bytes left),
 * or 0 when it is not one (RFC 3629: no overlong forms, no surrogates,
 * at most U+10FFFF, not truncated). */
size_t sc_json_utf8_seq(const unsigned char *s, size_t n);

#endif
