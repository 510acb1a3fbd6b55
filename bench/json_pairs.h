/*
 * bench/json_pairs.h — the js-framework-benchmark state transitions that
 * the JSON benchmarks time (json_bench, json_floor), and their clock:
 * the fastest of repeated runs, on the clock disturbed least.
 */
#ifndef SC_BENCH_JSON_PAIRS_H
#define SC_BENCH_JSON_PAIRS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/value.h"

static uint64_t seed = 0x9e3779b97f4a7c15ULL;
static int next_id = 1;

static inline uint32_t rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)((seed >> 11) % n);
}

static const char *const adjectives[] = {
    "pretty",	 "large",	"big",	    "small",	 "tall",
    "short",	 "long",	"handsome", "plain",	 "quaint",
    "clean",	 "elegant",	"easy",	    "angry",	 "crazy",
    "helpful",	 "mushy",	"odd",	    "unsightly", "adorable",
    "important", "inexpensive", "cheap",    "expensive", "fancy"};
static const char *const colours[] = {"red",   "yellow", "blue",   "green",
				      "pink",  "brown",	 "purple", "brown",
				      "white", "black",	 "orange"};
static const char *const nouns[] = {
    "table",  "chair",	  "house",  "bbq",   "desk",  "car",	 "pony",
    "cookie", "sandwich", "burger", "pizza", "mouse", "keyboard"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static inline json_object *row(void)
{
	json_object *r = json_object_new_object();
	char label[96];

	snprintf(label, sizeof(label), "%s %s %s",
		 adjectives[rnd(COUNT(adjectives))],
		 colours[rnd(COUNT(colours))], nouns[rnd(COUNT(nouns))]);
	json_object_object_add(r, "id", json_object_new_int(next_id++));
	json_object_object_add(r, "label", json_object_new_string(label));
	return r;
}

/* A state with count new rows. */
static inline json_object *state(int count)
{
	json_object *s = json_object_new_object();
	json_object *rows = json_object_new_array();
	int i;

	for (i = 0; i < count; i++)
		json_object_array_add(rows, row());
	json_object_object_add(s, "rows", rows);
	json_object_object_add(s, "selected", NULL);
	return s;
}

static inline json_object *copy(json_object *o)
{
	json_object *c = NULL;

	if (sc_json_copy(o, &c) != SC_OK) {
		fprintf(stderr, "json_bench: out of memory\n");
		exit(1);
	}
	return c;
}

/* Parses text (valid JSON). */
static inline json_object *J_text(const char *text)
{
	json_object *o = NULL;

	if (sc_json_parse(text, strlen(text), &o, NULL) != SC_OK) {
		fprintf(stderr, "json_bench: bad JSON %s\n", text);
		exit(1);
	}
	return o;
}

static inline json_object *rows_of(json_object *s)
{
	json_object *rows = NULL;

	json_object_object_get_ex(s, "rows", &rows);
	return rows;
}

/* Inserts v at index i of arr (json-c 0.16 has no insert). */
static inline void insert(json_object *arr, size_t i, json_object *v)
{
	size_t j, n = json_object_array_length(arr);

	json_object_array_add(arr, NULL);
	for (j = n; j > i; j--)
		json_object_array_put_idx(
		    arr, j,
		    json_object_get(json_object_array_get_idx(arr, j - 1)));
	json_object_array_put_idx(arr, i, v);
}

struct pair {
	const char *name;
	json_object *from, *to;
};

static inline void make_pairs(struct pair *p)
{
	json_object *s, *rows, *r;
	size_t i;
	char label[128];

	p[0] = (struct pair){"create 1k", state(0), state(1000)};

	s = state(1000);
	p[1] = (struct pair){"replace 1k", s, state(1000)};

	s = state(10000);
	p[2] = (struct pair){"update 10th of 10k", s, copy(s)};
	rows = rows_of(p[2].to);
	for (i = 0; i < 10000; i += 10) {
		r = json_object_array_get_idx(rows, i);
		snprintf(
		    label, sizeof(label), "%s !!!",
		    json_object_get_string(json_object_object_get(r, "label")));
		json_object_object_add(r, "label",
				       json_object_new_string(label));
	}

	s = state(1000);
	p[3] = (struct pair){"select row", s, copy(s)};
	json_object_object_add(
	    p[3].to, "selected",
	    json_object_new_int(json_object_get_int(json_object_object_get(
		json_object_array_get_idx(rows_of(s), 4), "id"))));

	s = state(1000);
	p[4] = (struct pair){"swap rows 2, 999", s, copy(s)};
	rows = rows_of(p[4].to);
	r = json_object_get(json_object_array_get_idx(rows, 1));
	json_object_array_put_idx(
	    rows, 1, json_object_get(json_object_array_get_idx(rows, 998)));
	json_object_array_put_idx(rows, 998, r);

	s = state(1000);
	p[5] = (struct pair){"remove row", s, copy(s)};
	json_object_array_del_idx(rows_of(p[5].to), 500, 1);

	p[6] = (struct pair){"create 10k", state(0), state(10000)};

	s = state(1000);
	p[7] = (struct pair){"append 1k to 1k", s, copy(s)};
	rows = rows_of(p[7].to);
	for (i = 0; i < 1000; i++)
		json_object_array_add(rows, row());

	s = state(1000);
	p[8] = (struct pair){"clear 1k", s, state(0)};

	s = state(1000);
	p[9] = (struct pair){"insert row at 10", s, copy(s)};
	insert(rows_of(p[9].to), 10, row());
}

#define NPAIRS 10

/* A moment on two clocks: the wall clock and this thread's CPU time. */
struct moment {
	double wall, cpu;
};

static inline double us_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline struct moment now(void)
{
	struct moment m;

	m.wall = us_of(CLOCK_MONOTONIC);
	m.cpu = us_of(CLOCK_THREAD_CPUTIME_ID);
	return m;
}

/* The time since start, on the clock that was disturbed least: the CPU
 * clock leaves out the time other processes of a shared machine ran,
 * the wall clock costs no system call (which matters for runs of a
 * microsecond). */
static inline double since(struct moment start)
{
	double cpu = us_of(CLOCK_THREAD_CPUTIME_ID) - start.cpu;
	double wall = us_of(CLOCK_MONOTONIC) - start.wall;

	return wall < cpu ? wall : cpu;
}

/* Each figure is the fastest of as many runs as fit in ~150 ms, at
 * least 5 and at most MAX_RUNS, after one run to warm up. */
#define MAX_RUNS 201

static inline double fastest(const double *t, int n)
{
	double best = t[1];
	int i;

	for (i = 2; i < n; i++)
		best = t[i] < best ? t[i] : best;
	return best;
}

static inline int enough(int runs, double spent_us)
{
	return runs >= MAX_RUNS || (runs >= 6 && spent_us > 150000);
}

#endif
