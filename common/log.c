/*
 * common/log.c — the logger (see log.h).
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic int current = SC_LOG_INFO; /* set once at start-up */

static const char *const names[] = {"error", "warn", "info", "debug"};

void sc_log_set_level(sc_log_level level)
{
	atomic_store_explicit(&current, (int)level, memory_order_relaxed);
}

int sc_log_enabled(sc_log_level level)
{
	return (int)level <=
	       atomic_load_explicit(&current, memory_order_relaxed);
}

int sc_log_level_parse(const char *name, sc_log_level *level)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*level = (sc_log_level)i;
			return 0;
		}
	return -1;
}

void sc_log(sc_log_level level, const char *fmt, ...)
{
	char raw[SC_LOG_LINE_MAX], line[SC_LOG_LINE_MAX];
	size_t i, n = 0;
	va_list ap;
	int k;

	if (!sc_log_enabled(level))
		return;
	va_start(ap, fmt);
	k = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	n = (size_t)snprintf(line, sizeof(line), "statechannel: level=%s ",
			     names[level]);
	for (i = 0; raw[i] != '\0' && n + 5 < sizeof(line); i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "\\x%02x", c);
		else
			line[n++] = (char)c;
	}
	line[n++] = '\n';
	if (write(2, line, n) < 0)
		(void)0; /* nowhere else to say it */
}

const char *sc_log_q(char *buf, size_t cap, const char *s)
{
	size_t i, n = 0;
	int plain = 1;

	if (cap == 0)
		return "";
	if (s == NULL)
		s = "-";
	for (i = 0; s[i] != '\0' && plain; i++) {
		unsigned char c = (unsigned char)s[i];

		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || strchr(":_-.@/+,", c) != NULL;
	}
	if (plain && s[0] != '\0') {
		snprintf(buf, cap, "%s", s);
		return buf;
	}
	if (cap < 3) {
		buf[0] = '\0';
		return buf;
	}
	buf[n++] = '"';
	for (i = 0; s[i] != '\0'; i++) {
		size_t need = s[i] == '"' || s[i] == '\\' ? 2 : 1;

		if (n + need + 2 > cap) /* room for '"' and the NUL */
			break;
		if (need == 2)
			buf[n++] = '\\';
		buf[n++] = s[i];
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}
