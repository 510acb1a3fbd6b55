/*
 * json/diffsize.c — the size of the containers sc_diff might replace
 * whole.  Sizes are counted by json/text.c (exactly the bytes its writer
 * prints, so a patch's text is exactly as long as sc_diff reckoned).  A
 * container being diffed is measured only as far as its element ops
 * already cost, resuming where the last step stopped, with what was
 * measured whole last (known) not walked again.
 *
 * Recursion is bounded by SC_JSON_MAX_DEPTH, so no input can overflow
 * the stack.
 */
#include "json/diffsize.h"

#include <string.h>

#include "common/alloc.h"
#include "json/text.h"
#include "json/value.h"

sc_err sc_diffsize_value(const struct sc_diffsize_known *known, json_object *o,
			 size_t depth, size_t cap, size_t *size)
{
	if (o != NULL && o == known->o && depth <= known->depth) {
		*size += known->size;
		return SC_OK;
	}
	return sc_text_count(o, depth, cap, size);
}

sc_err sc_diffsize_scope_measure(struct sc_diffsize_known *known,
				 struct sc_diffsize_scope *s, size_t cap)
{
	json_object *o = s->to;
	size_t n, m;
	sc_err rc;

	if (!s->started) {
		s->started = 1;
		if (json_object_is_type(o, json_type_array)) {
			n = json_object_array_length(o);
			s->measured = n > 0 ? n + 1 : 2; /* [ , ] */
		} else {
			n = (size_t)json_object_object_length(o);
			s->measured = n > 0 ? 2 * n + 1 : 2; /* { : , } */
			s->entry = lh_table_head(json_object_get_object(o));
		}
	}
	if (json_object_is_type(o, json_type_array)) {
		void **elems = json_object_get_array(o)->array;

		n = json_object_array_length(o);
		for (; s->next < n; s->next++) {
			m = s->measured;
			if (s->sizes != NULL && s->sizes[s->next] != 0) {
				m += s->sizes[s->next];
			} else {
				rc = sc_diffsize_value(
				    known, (json_object *)elems[s->next],
				    s->depth + 1, cap, &m);
				if (rc != SC_OK)
					return rc;
				if (m <= cap && s->sizes != NULL)
					s->sizes[s->next] = m - s->measured;
			}
			if (m > cap) {
				s->size = s->size > m ? s->size : m;
				return SC_OK;
			}
			s->measured = m;
		}
	} else {
		for (; s->entry != NULL; s->entry = lh_entry_next(s->entry)) {
			const char *key = lh_entry_k(s->entry);

			m = s->measured + sc_text_string_size(key, strlen(key));
			rc = sc_diffsize_value(
			    known, (json_object *)lh_entry_v(s->entry),
			    s->depth + 1, cap, &m);
			if (rc != SC_OK)
				return rc;
			if (m > cap) {
				s->size = s->size > m ? s->size : m;
				return SC_OK;
			}
			s->measured = m;
		}
	}
	s->size = s->measured;
	s->exact = 1;
	known->o = o;
	known->size = s->size;
	known->depth = s->depth;
	return SC_OK;
}

void sc_diffsize_scope_bound(struct sc_diffsize_scope *s, size_t bound)
{
	size_t min = 1 + json_object_array_length(s->to); /* [ , ] */

	s->elb += bound;
	if (s->size < min + s->elb)
		s->size = min + s->elb;
}

size_t *sc_diffsize_scope_sizes(struct sc_diffsize_scope *s)
{
	if (s->sizes == NULL && s->may_keep_sizes) {
		s->sizes = sc_calloc(json_object_array_length(s->to),
				     sizeof(*s->sizes));
		s->may_keep_sizes = s->sizes != NULL;
	}
	return s->sizes;
}

sc_err sc_diffsize_elem(const struct sc_diffsize_known *known,
			struct sc_diffsize_scope *s, size_t i, size_t *size)
{
	sc_err rc;

	if (s->sizes != NULL && s->sizes[i] != 0) {
		*size = s->sizes[i];
		return SC_OK;
	}
	*size = 0;
	rc = sc_diffsize_value(known, json_object_array_get_idx(s->to, i),
			       s->depth + 1, SIZE_MAX, size);
	if (rc == SC_OK && sc_diffsize_scope_sizes(s) != NULL)
		s->sizes[i] = *size;
	return rc;
}
