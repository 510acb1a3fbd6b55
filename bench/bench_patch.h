/*
 * bench/bench_patch.h — the one-op change the store benchmarks commit
 * (a "replace" of one member with a number), shared by their programs.
 */
#ifndef SC_BENCH_PATCH_H
#define SC_BENCH_PATCH_H

#include <stdio.h>

#include "json/value.h"
#include "store/store.h"

/* The patch text of the bare loops, with the value as %ld. */
#define PATCH_FMT "[{\"op\":\"replace\",\"path\":\"/n\",\"value\":%ld}]"

/* The bare SQLite loop's table (the log's shape, without its index) and
 * its row (version ?1, time ?2, patch ?3). */
#define BARE_TABLE                                                      \
	"CREATE TABLE IF NOT EXISTS t (seq INTEGER PRIMARY KEY, topic TEXT " \
	"NOT NULL, version INTEGER NOT NULL, time_ms INTEGER NOT NULL, "     \
	"event TEXT, patch TEXT NOT NULL)"
#define BARE_INSERT                                                     \
	"INSERT INTO t (topic, version, time_ms, event, patch) VALUES "      \
	"('t', ?1, ?2, 'tick', ?3)"

/* Applies and logs [{"op":"replace","path":path,"value":value}] in txn. */
static inline sc_err bench_replace(sc_store_txn *txn, const char *path,
				   long value, sc_error *err)
{
	char text[160];
	int len = snprintf(text, sizeof(text),
			   "[{\"op\":\"replace\",\"path\":\"%s\",\"value\":%ld}]",
			   path, value);
	json_object *ops = NULL;
	sc_err rc = len > 0 && (size_t)len < sizeof(text)
			? sc_json_parse(text, (size_t)len, &ops, err)
			: sc_error_set(err, SC_ERR_INVALID, "path too long");

	if (rc == SC_OK)
		rc = sc_store_txn_patch(txn, ops, err);
	json_object_put(ops);
	return rc;
}

#endif
