/*
 * bench/json_bench.c — sc_diff, sc_diff_text, sc_patch_apply and
 * sc_patch_apply_take on the js-framework-benchmark operations, as state
 * transitions of {"rows":[{"id":N,"label":"..."}...],"selected":null}.
 * Prints figures; asserts nothing.
 *
 *	json_bench [DIR]
 *	json_bench text
 *
 * For each operation it times sc_diff (the patch as json-c objects),
 * sc_diff_text (the patch as text, what a store keeps; parse excluded
 * from both), sc_patch_apply and sc_patch_apply_take (on a fresh copy of
 * the document each run, the copy excluded), each the fastest of
 * repeated runs (the least disturbed one on a shared machine), and
 * measures the patch's compact size and that of replacing the whole
 * document.  With DIR, it writes each pair as DIR/NAME.from.json and
 * DIR/NAME.to.json and its figures as DIR/results.tsv, for
 * bench/json_fjp.mjs to run fast-json-patch on the same states.
 * `json_bench text` times our compact serializer (json/text.h) beside
 * json-c's on js-framework-benchmark states of 10, 10k and 100k rows
 * (~4 MB), 20k doubles and single ops, all parsed from text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "json/diff.h"
#include "json/patch.h"
#include "json/text.h"
#include "json/value.h"

static uint64_t seed = 0x9e3779b97f4a7c15ULL;
static int next_id = 1;

static uint32_t rnd(uint32_t n)
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

static json_object *row(void)
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
static json_object *state(int count)
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

static json_object *copy(json_object *o)
{
	json_object *c = NULL;

	if (sc_json_copy(o, &c) != SC_OK) {
		fprintf(stderr, "json_bench: out of memory\n");
		exit(1);
	}
	return c;
}

/* Parses text (valid JSON). */
static json_object *J_text(const char *text)
{
	json_object *o = NULL;

	if (sc_json_parse(text, strlen(text), &o, NULL) != SC_OK) {
		fprintf(stderr, "json_bench: bad JSON %s\n", text);
		exit(1);
	}
	return o;
}

static json_object *rows_of(json_object *s)
{
	json_object *rows = NULL;

	json_object_object_get_ex(s, "rows", &rows);
	return rows;
}

/* Inserts v at index i of arr (json-c 0.16 has no insert). */
static void insert(json_object *arr, size_t i, json_object *v)
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

static void make_pairs(struct pair *p)
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

static double us_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct moment now(void)
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
static double since(struct moment start)
{
	double cpu = us_of(CLOCK_THREAD_CPUTIME_ID) - start.cpu;
	double wall = us_of(CLOCK_MONOTONIC) - start.wall;

	return wall < cpu ? wall : cpu;
}

/* Each figure is the fastest of as many runs as fit in ~150 ms, at
 * least 5 and at most MAX_RUNS, after one run to warm up. */
#define MAX_RUNS 201

static double fastest(const double *t, int n)
{
	double best = t[1];
	int i;

	for (i = 2; i < n; i++)
		best = t[i] < best ? t[i] : best;
	return best;
}

static int enough(int runs, double spent_us)
{
	return runs >= MAX_RUNS || (runs >= 6 && spent_us > 150000);
}

/* sc_diff when text is 0, else sc_diff_text. */
static double time_diff(const struct pair *p, int text)
{
	double t[MAX_RUNS], spent = 0;
	struct moment start;
	json_object *patch = NULL;
	char *buf = NULL;
	size_t len;
	sc_err rc;
	int n = 0;

	while (!enough(n, spent)) {
		start = now();
		if (text)
			rc = sc_diff_text(p->from, p->to, SIZE_MAX, &buf, &len,
					  NULL, NULL);
		else
			rc = sc_diff(p->from, p->to, &patch, NULL);
		t[n] = since(start);
		if (rc != SC_OK)
			return -1;
		spent += t[n++];
		json_object_put(patch);
		sc_free(buf);
		patch = NULL;
		buf = NULL;
	}
	return fastest(t, n);
}

/* sc_patch_apply when take is 0, else sc_patch_apply_take on a fresh
 * copy of the patch (made and freed outside the timing, as a store
 * parses a patch to apply it). */
static double time_apply(const struct pair *p, json_object *patch, int take)
{
	double t[MAX_RUNS], spent = 0;
	struct moment start;
	json_object *doc, *ops;
	sc_err rc;
	int n = 0;

	while (!enough(n, spent)) {
		doc = copy(p->from);
		ops = take ? copy(patch) : json_object_get(patch);
		start = now();
		if (take)
			rc = sc_patch_apply_take(&doc, ops, NULL);
		else
			rc = sc_patch_apply(&doc, ops, NULL);
		t[n] = since(start);
		json_object_put(ops);
		json_object_put(doc);
		if (rc != SC_OK)
			return -1;
		spent += t[n++];
	}
	return fastest(t, n);
}

/* sc_text_write into a new buffer (made and freed in the timing, as
 * the store's text cache does) when ours is 1, else json-c's
 * json_object_to_json_string_length (whose buffer json-c keeps in the
 * object between runs).  *len gets the text's length. */
static double time_text(json_object *o, int ours, size_t *len)
{
	double t[MAX_RUNS], spent = 0;
	struct moment start;
	const char *s;
	sc_buf b;
	int n = 0;

	while (!enough(n, spent)) {
		memset(&b, 0, sizeof(b));
		start = now();
		if (ours) {
			if (sc_text_write(&b, o) != SC_OK)
				return -1;
			*len = b.len;
			sc_buf_free(&b);
		} else {
			s = json_object_to_json_string_length(
			    o,
			    JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE,
			    len);
			if (s == NULL)
				return -1;
		}
		t[n] = since(start);
		spent += t[n++];
	}
	return fastest(t, n);
}

/* The parsed text of o (a state as the store holds it: read from its
 * snapshot). */
static json_object *reparse(json_object *o)
{
	json_object *back = NULL;
	sc_buf b = {0};

	if (sc_text_write(&b, o) != SC_OK ||
	    sc_json_parse(b.p, b.len, &back, NULL) != SC_OK) {
		fprintf(stderr, "json_bench: cannot reparse\n");
		exit(1);
	}
	sc_buf_free(&b);
	return back;
}

/* `json_bench text`: our serializer beside json-c's on states and ops
 * (parsed from text, as the store holds them), the same bytes checked. */
static int bench_text(void)
{
	struct {
		const char *name;
		json_object *o;
	} c[8];
	json_object *o, *nums;
	size_t i, n = 0, lo, lj;
	char num[32];
	int rc = 0;

	c[n].name = "state 100k rows";
	c[n++].o = reparse(o = state(100000));
	json_object_put(o);
	c[n].name = "state 10k rows";
	c[n++].o = reparse(o = state(10000));
	json_object_put(o);
	c[n].name = "state 10 rows";
	c[n++].o = reparse(o = state(10));
	json_object_put(o);
	nums = json_object_new_array();
	for (i = 0; i < 10000; i++) {
		snprintf(num, sizeof(num), "%zu.%zu5", i, i % 7);
		json_object_array_add(nums, json_object_new_double_s(
						atof(num), num));
		json_object_array_add(nums,
				      json_object_new_double((double)i / 3));
	}
	c[n].name = "20k doubles";
	c[n++].o = reparse(nums);
	json_object_put(nums);
	c[n].name = "op: replace label";
	c[n++].o = J_text("{\"op\":\"replace\",\"path\":\"/rows/4/label\","
			  "\"value\":\"pretty red table !!!\"}");
	c[n].name = "op: select";
	c[n++].o = J_text("{\"op\":\"replace\",\"path\":\"/selected\","
			  "\"value\":5}");
	printf("%-20s %10s %10s %7s %9s %s\n", "serialize", "ours us",
	       "json-c us", "ratio", "bytes", "check");
	for (i = 0; i < n; i++) {
		double to = time_text(c[i].o, 1, &lo);
		double tj = time_text(c[i].o, 0, &lj);
		sc_buf b = {0};
		const char *want = json_object_to_json_string_length(
		    c[i].o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &lj);
		int same = sc_text_write(&b, c[i].o) == SC_OK && b.len == lj &&
			   memcmp(b.p, want, lj) == 0;

		printf("%-20s %10.1f %10.1f %6.2fx %9zu %s\n", c[i].name, to,
		       tj, to > 0 ? tj / to : 0, lo, same ? "ok" : "MISMATCH");
		rc |= !same;
		sc_buf_free(&b);
		json_object_put(c[i].o);
	}
	return rc;
}

static int write_file(const char *dir, const char *name, const char *suffix,
		      json_object *o)
{
	char path[4096];
	sc_buf text = {0};
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s.%s.json", dir, name, suffix);
	if (sc_text_write(&text, o) != SC_OK)
		return -1;
	f = fopen(path, "w");
	ok = f != NULL && fwrite(text.p, 1, text.len, f) == text.len;
	sc_buf_free(&text);
	if (f == NULL)
		return -1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct pair p[NPAIRS];
	const char *dir = argc > 1 ? argv[1] : NULL;
	FILE *tsv = NULL;
	char path[4096], file[64];
	int i, rc = 0;

	if (dir != NULL && strcmp(dir, "text") == 0)
		return bench_text();
	make_pairs(p);
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/results.tsv", dir);
		tsv = fopen(path, "w");
		if (tsv == NULL) {
			perror(path);
			return 1;
		}
	}
	printf("%-20s %9s %9s %9s %9s %8s %6s %8s %s\n", "op", "diff us",
	       "text us", "apply us", "take us", "bytes", "ops", "replace",
	       "check");
	for (i = 0; i < NPAIRS; i++) {
		json_object *patch = NULL, *doc;
		size_t bytes, whole;
		double td, tt, ta, tk;
		const char *check;

		if (sc_diff(p[i].from, p[i].to, &patch, NULL) != SC_OK) {
			printf("%-20s diff failed\n", p[i].name);
			rc = 1;
			continue;
		}
		if (sc_text_size(patch, &bytes) != SC_OK ||
		    sc_text_size(p[i].to, &whole) != SC_OK)
			bytes = whole = 0;
		whole += sizeof("[{\"op\":\"replace\",\"path\":\"\","
				"\"value\":}]") -
			 1;
		doc = copy(p[i].from);
		check = sc_patch_apply(&doc, patch, NULL) == SC_OK &&
				sc_json_equal(doc, p[i].to)
			    ? "ok"
			    : "MISMATCH";
		json_object_put(doc);
		td = time_diff(&p[i], 0);
		tt = time_diff(&p[i], 1);
		ta = time_apply(&p[i], patch, 0);
		tk = time_apply(&p[i], patch, 1);
		printf("%-20s %9.1f %9.1f %9.1f %9.1f %8zu %6zu %8zu %s\n",
		       p[i].name, td, tt, ta, tk, bytes,
		       json_object_array_length(patch), whole, check);
		if (tsv != NULL) {
			snprintf(file, sizeof(file), "op%d", i);
			if (write_file(dir, file, "from", p[i].from) != 0 ||
			    write_file(dir, file, "to", p[i].to) != 0) {
				fprintf(stderr, "json_bench: cannot write %s\n",
					dir);
				rc = 1;
			}
			fprintf(tsv,
				"%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%zu\t%zu\t"
				"%zu\n",
				file, p[i].name, td, tt, ta, tk, bytes,
				json_object_array_length(patch), whole);
		}
		json_object_put(patch);
	}
	for (i = 0; i < NPAIRS; i++) {
		json_object_put(p[i].from);
		json_object_put(p[i].to);
	}
	if (tsv != NULL && fclose(tsv) != 0)
		rc = 1;
	return rc;
}
