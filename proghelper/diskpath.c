/*
 * diskpath.c: DiskPaths through a link inside GOCACHE (see diskpath.h).
 */
#include "proghelper/diskpath.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* The link's name for store_dir: 16 hex digits of its SHA-256. */
static bool diskpath_link_name(const char *store_dir, char name[17])
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char hex[STORE_ID_LEN + 1];

	if (EVP_Digest(store_dir, strlen(store_dir), hash, &len, EVP_sha256(), NULL) != 1 ||
	    len != STORE_HASH_LEN)
		return false;
	store_hex(hash, hex);
	memcpy(name, hex, 16);
	name[16] = '\0';
	return true;
}

/* True when link is a symbolic link whose target is exactly target. */
static bool diskpath_link_points_at(const char *link, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof buf);

	return n >= 0 && (size_t)n == strlen(target) && memcmp(buf, target, (size_t)n) == 0;
}

/*
 * Make link point at target: a new link under a unique name, renamed over
 * whatever was there, so a reader never finds it missing or half made.
 */
static bool diskpath_make_link(const char *link, const char *target)
{
	char *tmp = NULL;
	bool ok;

	if (asprintf(&tmp, "%s.%ld.tmp", link, (long)getpid()) < 0)
		return false;
	unlink(tmp);
	ok = symlink(target, tmp) == 0 && rename(tmp, link) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok;
}

char *diskpath_root(const char *store_dir, const char *gocache)
{
	size_t glen = gocache != NULL ? strlen(gocache) : 0;
	char name[17];
	char *folder = NULL, *link = NULL;

	/* The go command compares plain string prefixes; so does this. */
	if (glen == 0 || gocache[0] != '/' || strncmp(store_dir, gocache, glen) == 0 ||
	    !diskpath_link_name(store_dir, name))
		return strdup(store_dir);
	if (asprintf(&folder, "%s/%s", gocache, DISKPATH_LINKS) < 0)
		return NULL;
	if (asprintf(&link, "%s/%s", folder, name) < 0) {
		free(folder);
		return NULL;
	}
	if (!diskpath_link_points_at(link, store_dir) &&
	    ((mkdir(folder, 0755) != 0 && errno != EEXIST) ||
	     !diskpath_make_link(link, store_dir))) {
		free(link);
		link = strdup(store_dir);
	}
	free(folder);
	return link;
}

size_t diskpath_max(const char *root)
{
	return strlen(root) + 1 + STORE_NAME_MAX;
}

bool diskpath_format(const char *root, const unsigned char output[STORE_HASH_LEN], char *buf, size_t n)
{
	char hex[STORE_ID_LEN + 1], name[STORE_NAME_MAX];
	int len;

	store_hex(output, hex);
	if (store_object_name(STORE_CAS, hex, name) != STORE_OK)
		return false;
	len = snprintf(buf, n, "%s/%s", root, name);
	return len >= 0 && (size_t)len < n;
}
