/*
 * http_go.c: an action with its output in one answer (http_go.h; the
 * stream of many is go_batch.c). An /ac body that does not begin with a Go
 * entry line for its own action (a Bazel or ccache entry, say) is simply a
 * miss here. A compressed output goes out as stored to a client that
 * accepts zstd, decoded to any other.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "wire/wire.h"
#include "gateway/gateway.h"
#include "gateway/objects/http_go.h"
#include "gateway/tier/http_tier.h"
#include "gateway/http/respond.h"

enum go_found go_find(const struct ac_ns *a, const char *action, char line[GO_ENTRY_LEN],
                      char output[STORE_ID_LEN + 1], struct store_object *obj)
{
	struct store_object ac;
	struct go_entry e;
	char want[STORE_HASH_LEN];
	ssize_t n;

	if (ac_ns_get(a, action, &ac, NULL) != STORE_OK)
		return GO_NO_ENTRY;
	do
		n = pread(ac.fd, line, GO_ENTRY_LEN, 0);
	while (n < 0 && errno == EINTR);
	close(ac.fd);
	if (n != GO_ENTRY_LEN || !go_entry_parse(line, GO_ENTRY_LEN, &e) ||
	    !store_unhex(action, (unsigned char *)want) ||
	    memcmp(e.action, want, STORE_HASH_LEN) != 0)
		return GO_NOT_GO;
	store_hex(e.output, output);
	return store_get(a->base, STORE_CAS, output, e.size, obj) == STORE_OK ? GO_FOUND
	                                                                       : GO_NO_OUTPUT;
}

enum MHD_Result go_serve(struct MHD_Connection *c, struct request *r)
{
	struct store_object obj;
	char line[GO_ENTRY_LEN], output[STORE_ID_LEN + 1];
	struct ac_ns seen = ac_ns_first(&r->ac, ac_ns_local_reads(&r->ac, r->gw->tier != NULL,
	                                                         r->tier_ac_asked));
	enum go_found found = go_find(&seen, r->id, line, output, &obj);

	/* With a shared tier, what is missing here is asked of it: the entry, then the output. */
	if (found == GO_NO_ENTRY && http_tier_may_ask(r, STORE_AC))
		return http_tier_fetch(c, r, STORE_AC, r->id);
	if (found == GO_NO_OUTPUT && http_tier_may_ask(r, STORE_CAS))
		return http_tier_fetch(c, r, STORE_CAS, output);
	if (found != GO_FOUND) {
		metrics_count_lookup(r->gw->metrics, STORE_AC, false);
		metrics_count_grant(r->gw->metrics, &r->grant, GRANT_MISS);
		return respond_text(c, r, MHD_HTTP_NOT_FOUND, "not found");
	}
	metrics_count_lookup(r->gw->metrics, STORE_AC, true);
	metrics_count_grant(r->gw->metrics, &r->grant, GRANT_HIT);
	line[GO_ENTRY_LEN - 1] = '\0';  /* the header value: the line without its newline */
	return respond_object(c, r, &obj, output, line);
}
