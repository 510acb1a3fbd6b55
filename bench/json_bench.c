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

#include "bench/json_pairs.h"

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
		json_object_array_add(nums,
				      json_object_new_double_s(atof(num), num));
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
