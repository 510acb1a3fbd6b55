/*
 * statechannel/log.h — the one logger: one line per record on stderr (which
 * lighttpd, Apache and nginx put in their error logs), with a level and
 * key=value fields.  Prefix sc_log.
 *
 *	statechannel: level=error event=handler_failed topic=list:a ...
 *
 * Thread-safe: a record is one write(2).  The level is set once by the
 * process (sc_log_set_level, from --log-level); records below it cost a
 * comparison.  Part of the installed API (applications log through
 * it); in the source tree, common/log.h includes this file.
 */
#ifndef SC_STATECHANNEL_LOG_H
#define SC_STATECHANNEL_LOG_H

#include <stddef.h>

typedef enum sc_log_level {
	SC_LOG_ERROR,
	SC_LOG_WARN,
	SC_LOG_INFO,
	SC_LOG_DEBUG
} sc_log_level;

/* Longest record, its newline included; longer ones are cut. */
#define SC_LOG_LINE_MAX 1024

/* Records of level up to this one are written (default SC_LOG_INFO). */
void sc_log_set_level(sc_log_level level);

/* Whether a record of level would be written. */
int sc_log_enabled(sc_log_level level);

/*
 * Parses "error", "warn", "info" or "debug" into *level: 0, or -1 for
 * anything else (*level unchanged).
 */
int sc_log_level_parse(const char *name, sc_log_level *level);

/*
 * Writes one record: "statechannel: level=LEVEL " and fmt's fields
 * (printf-formatted: "event=start db=%s workers=%d").  Control bytes of
 * the result are written as \xNN, so a value cannot start a record of
 * its own.  Values that may hold spaces or quotes go through sc_log_q.
 */
void sc_log(sc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * s as a field value: as it is when it is plain (letters, digits and
 * ":_-.@/+,"), else in double quotes with \" and \\ escaped; written
 * into buf (cap bytes, cut to fit) and returned.  NULL gives "-".
 */
const char *sc_log_q(char *buf, size_t cap, const char *s);

#endif
