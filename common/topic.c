/*
 * common/topic.c — topic names (see topic.h).
 */
#include "common/topic.h"

#include <string.h>

sc_err sc_topic_check(const char *topic, sc_error *err)
{
	size_t i;

	if (topic == NULL || topic[0] == '\0')
		return sc_error_set(err, SC_ERR_TOPIC, "empty topic name");
	for (i = 0; topic[i] != '\0'; i++) {
		unsigned char c = (unsigned char)topic[i];

		if (i >= SC_TOPIC_MAX)
			return sc_error_set(err, SC_ERR_TOPIC,
					    "topic name longer than %d bytes",
					    SC_TOPIC_MAX);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(":_-.@", c) != NULL)
			continue;
		return sc_error_set(err, SC_ERR_TOPIC,
				    "topic name has a byte 0x%02x at %zu "
				    "(allowed: ASCII letters, digits, :_-.@)",
				    c, i);
	}
	return SC_OK;
}
