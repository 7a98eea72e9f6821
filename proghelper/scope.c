/*
 * scope.c: the default preload scope, read from the go command's process.
 */
#include "proghelper/scope.h"
#include "wire/wire.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Environment variables that change what the go command builds. */
static const char *const scope_env[] = {
	"GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "GOAMD64", "GOARM64",
	"GO386", "GOARM", "GOWORK", "CC", "CGO_CFLAGS", "CGO_LDFLAGS", NULL,
};

/* Append text to the growing *buf (of *len bytes); false when out of memory. */
static bool scope_append(char **buf, size_t *len, const char *text, size_t n)
{
	char *grown = realloc(*buf, *len + n + 1);

	if (grown == NULL)
		return false;
	memcpy(grown + *len, text, n);
	*len += n;
	grown[*len] = '\0';
	*buf = grown;
	return true;
}

/*
 * The arguments of process pid after its program name, each followed by a
 * space, into out; a path under cwd is written relative to it, so that
 * checkouts in different places agree.
 */
static void scope_args(pid_t pid, const char *cwd, char *out, size_t cap)
{
	char path[64], raw[8192];
	size_t n, len = 0, here = strlen(cwd);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	n = fread(raw, 1, sizeof raw - 1, f);
	fclose(f);
	raw[n] = '\0';
	/* Skip the program name, however it was spelled. */
	for (size_t i = strnlen(raw, n) + 1; i < n; i += strlen(raw + i) + 1) {
		const char *arg = raw + i;
		int w;

		if (here > 1 && strncmp(arg, cwd, here) == 0 && arg[here] == '/')
			w = snprintf(out + len, cap - len, ".%s ", arg + here);
		else
			w = snprintf(out + len, cap - len, "%s ", arg);
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
}

/*
 * The module path in the go.mod nearest above dir, and dir relative to the
 * module's root (into mod and rel); false when there is none.
 */
static bool scope_module(const char *dir, char *mod, size_t modcap, char *rel, size_t relcap)
{
	char root[PATH_MAX], path[PATH_MAX + 8], line[1024], name[1024];
	size_t n;

	snprintf(root, sizeof root, "%s", dir);
	for (;;) {
		FILE *f;

		snprintf(path, sizeof path, "%s/go.mod", root);
		f = fopen(path, "r");
		if (f != NULL) {
			mod[0] = '\0';
			while (fgets(line, sizeof line, f) != NULL)
				if (sscanf(line, "module %1023s", name) == 1) {
					snprintf(mod, modcap, "%s", name);
					break;
				}
			fclose(f);
			n = strlen(root);
			snprintf(rel, relcap, "%s", dir[n] == '/' ? dir + n + 1 : dir + n);
			return true;
		}
		n = strlen(root);
		while (n > 0 && root[n - 1] != '/')
			n--;
		if (n <= 1)
			return false;
		root[n - 1] = '\0';
	}
}

/* The Go version of the go command at exe ($GOROOT/bin/go: $GOROOT/VERSION), into out. */
static void scope_go_version(const char *exe, char *out, size_t cap)
{
	char path[PATH_MAX + 16];
	const char *bin = strrchr(exe, '/');
	FILE *f;

	snprintf(out, cap, "%s", exe);
	if (bin == NULL)
		return;
	snprintf(path, sizeof path, "%.*s/../VERSION", (int)(bin - exe), exe);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(out, (int)cap, f) == NULL)
		snprintf(out, cap, "%s", exe);
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* Append "name=value\n" to the growing *buf; false when out of memory. */
static bool scope_field(char **buf, size_t *len, const char *name, const char *value)
{
	return scope_append(buf, len, name, strlen(name)) && scope_append(buf, len, "=", 1) &&
	       scope_append(buf, len, value, strlen(value)) && scope_append(buf, len, "\n", 1);
}

char *scope_default(void)
{
	pid_t parent = getppid();
	char link[64], cwd[PATH_MAX], exe[PATH_MAX], mod[1024] = "", rel[PATH_MAX] = "";
	char version[PATH_MAX], args[8192];
	struct utsname u;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	bool ok;

	snprintf(link, sizeof link, "/proc/%ld/cwd", (long)parent);
	n = readlink(link, cwd, sizeof cwd - 1);
	cwd[n > 0 ? n : 0] = '\0';
	snprintf(link, sizeof link, "/proc/%ld/exe", (long)parent);
	n = readlink(link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	/* A build outside any module (GOPATH, std) is told apart by where it runs. */
	if (!scope_module(cwd, mod, sizeof mod, rel, sizeof rel))
		snprintf(rel, sizeof rel, "%s", cwd);
	scope_go_version(exe, version, sizeof version);
	scope_args(parent, cwd, args, sizeof args);
	if (uname(&u) != 0)
		snprintf(u.machine, sizeof u.machine, "unknown");

	ok = scope_field(&buf, &len, "module", mod) && scope_field(&buf, &len, "dir", rel) &&
	     scope_field(&buf, &len, "go", version) && scope_field(&buf, &len, "host", u.machine) &&
	     scope_field(&buf, &len, "args", args);
	for (size_t i = 0; ok && scope_env[i] != NULL; i++) {
		const char *v = getenv(scope_env[i]);
		if (v != NULL)
			ok = scope_field(&buf, &len, scope_env[i], v);
	}
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

void scope_checkout_record(char rec[GO_ENTRY_LEN])
{
	char link[64], cwd[PATH_MAX], hex[STORE_ID_LEN + 1];
	unsigned char h[STORE_HASH_LEN];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%ld/cwd", (long)getppid());
	n = readlink(link, cwd, sizeof cwd - 1);
	cwd[n > 0 ? n : 0] = '\0';
	EVP_Digest(cwd, strlen(cwd), h, NULL, EVP_sha256(), NULL);
	store_hex(h, hex);
	memset(rec, ' ', GO_ENTRY_LEN);
	memcpy(rec, WIRE_LIST_CHECKOUT, WIRE_LIST_CHECKOUT_LEN);
	memcpy(rec + WIRE_LIST_CHECKOUT_LEN, hex, STORE_ID_LEN);
	rec[GO_ENTRY_LEN - 1] = '\n';
}

bool scope_key(const char *scope, unsigned char key[STORE_HASH_LEN])
{
	size_t n = strlen(scope);
	char *text = malloc(sizeof WIRE_LIST_HEADER + n);

	if (text == NULL)
		return false;
	memcpy(text, WIRE_LIST_HEADER, sizeof WIRE_LIST_HEADER - 1);
	memcpy(text + sizeof WIRE_LIST_HEADER - 1, scope, n + 1);
	EVP_Digest(text, sizeof WIRE_LIST_HEADER - 1 + n, key, NULL, EVP_sha256(), NULL);
	free(text);
	return true;
}
