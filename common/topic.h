/*
 * common/topic.h — the vocabulary the routes, the hub and the store
 * share: how long a topic name may be and which bytes it may hold, and
 * how long a formatted cursor ("EPOCH:SEQ") may be.  Prefix sc_topic_.
 */
#ifndef SC_COMMON_TOPIC_H
#define SC_COMMON_TOPIC_H

#include "common/error.h"

#define SC_TOPIC_MAX  200 /* bytes in a topic name */
#define SC_CURSOR_MAX 64  /* bytes in a formatted cursor, with its NUL */

/*
 * Checks a topic name: 1 to SC_TOPIC_MAX bytes of ASCII letters, digits
 * and ":_-.@".  Returns SC_OK, or SC_ERR_TOPIC with a message saying why.
 */
sc_err sc_topic_check(const char *topic, sc_error *err);

#endif
