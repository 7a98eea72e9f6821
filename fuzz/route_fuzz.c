/*
 * route_fuzz.c: libFuzzer target for the gateway's request paths and the
 * ids in them (route_parse), and method names (route_method).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1), id[STORE_ID_LEN + 1];
	unsigned char hash[STORE_HASH_LEN];
	enum endpoint route;
	enum route_result r;

	if (url == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';  /* MHD hands the path over as a C string */
	r = route_parse(url, &route, id);
	if (route_result_str(r) == NULL || (unsigned)route >= ENDPOINT_COUNT)
		abort();
	/* A found object's id is a valid id, the path's last segment, never a dot segment. */
	if (r == ROUTE_FOUND && (route == ENDPOINT_AC || route == ENDPOINT_CAS || route == ENDPOINT_GO)) {
		size_t n = strlen(url);
		if (!store_id_valid(id, strlen(id)) || !store_unhex(id, hash) ||
		    n < STORE_ID_LEN + 1 || url[n - STORE_ID_LEN - 1] != '/' ||
		    memcmp(url + n - STORE_ID_LEN, id, STORE_ID_LEN) != 0 || strstr(url, "/../") != NULL ||
		    strstr(url, "/./") != NULL)
			abort();
	}
	if ((unsigned)route_method(url) >= METHOD_COUNT)
		abort();
	free(url);
	return 0;
}
