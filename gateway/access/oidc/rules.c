/*
 * rules.c: the claim rules (syntax in rules.h), parsed once at start and
 * then only read, so any number of threads may match tokens at once.
 * Templates are checked at load for their shape; what they expand to is
 * checked per token, since claims choose it.
 */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cause.h"
#include "gateway/access/oidc/rules.h"

struct cond {
	char *claim;
	char *value;   /* the exact value, or the glob */
	bool glob;
};

struct rule {
	char name[GRANT_NS_MAX + 1];
	size_t nconds;
	struct cond conds[RULES_CONDS_MAX];
	char *write;                     /* template, or NULL */
	size_t nreads;
	char *reads[GRANT_READS_MAX];    /* templates */
};

struct rules {
	size_t n;
	struct rule v[RULES_MAX];
};

/* The characters of a claim's name; with '/', those of a template's literal text. */
#define CLAIM_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

/* Is c allowed in a template's literal text (a namespace's characters)? */
static bool literal_char(char c)
{
	return c != '\0' && (strchr(CLAIM_CHARS, c) != NULL || c == '/');
}

/*
 * Is t a template: namespace characters and {CLAIM} or {CLAIM#PREFIX}
 * placeholders, and, without placeholders, a namespace name?
 */
static bool template_valid(const char *t)
{
	bool placeholder = false;
	size_t len = strlen(t);

	if (len == 0 || len > RULES_LINE_MAX)
		return false;
	for (const char *p = t; *p != '\0';) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t name = strspn(p + 1, CLAIM_CHARS);

			if (close == NULL || name == 0 ||
			    (p[1 + name] != '}' && p[1 + name] != '#') ||
			    memchr(p + 1, '{', (size_t)(close - p - 1)) != NULL)
				return false;
			placeholder = true;
			p = close + 1;
		} else if (literal_char(*p)) {
			p++;
		} else {
			return false;
		}
	}
	return placeholder || grant_ns_valid(t);
}

/* The claim's value as text in buf (strings, booleans, integers), or NULL. */
static const char *claim_text(json_t *claims, const char *name, char *buf, size_t size)
{
	json_t *v = json_object_get(claims, name);

	/* A string with a NUL inside is no value: it could pass for its first part. */
	if (json_is_string(v))
		return strlen(json_string_value(v)) == json_string_length(v) ? json_string_value(v)
		                                                                : NULL;
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

/*
 * Expand template t with claims into out (GRANT_NS_MAX + 1 bytes); false
 * when a claim is missing or the result is not a namespace name.
 */
static bool expand(const char *t, json_t *claims, char *out)
{
	size_t n = 0;
	char num[32];

	for (const char *p = t; *p != '\0';) {
		const char *piece = p;
		size_t len = 1;

		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t name = strspn(p + 1, CLAIM_CHARS);
			char claim[RULES_LINE_MAX];
			const char *prefix = p + 1 + name;
			size_t plen = 0;

			memcpy(claim, p + 1, name);
			claim[name] = '\0';
			if (*prefix == '#') {
				prefix++;
				plen = (size_t)(close - prefix);
			}
			piece = claim_text(claims, claim, num, sizeof(num));
			if (piece == NULL)
				return false;
			len = strlen(piece);
			if (plen > 0 && len >= plen && memcmp(piece, prefix, plen) == 0) {
				piece += plen;
				len -= plen;
			}
			p = close + 1;
		} else {
			p++;
		}
		if (len > GRANT_NS_MAX - n)
			return false;
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
	return grant_ns_valid(out);
}

/* Does every condition of r hold for claims? */
static bool matches(const struct rule *r, json_t *claims)
{
	char num[32];

	for (size_t i = 0; i < r->nconds; i++) {
		const struct cond *c = &r->conds[i];
		const char *v = claim_text(claims, c->claim, num, sizeof(num));

		if (v == NULL || (c->glob ? fnmatch(c->value, v, 0) != 0 : strcmp(c->value, v) != 0))
			return false;
	}
	return true;
}

const char *rules_grant(const struct rules *rs, json_t *claims, struct grant *g)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->v[i];
		char ns[GRANT_NS_MAX + 1];

		if (!matches(r, claims))
			continue;
		memset(g, 0, sizeof(*g));
		strcpy(g->label, r->name);
		if (r->write != NULL && expand(r->write, claims, ns)) {
			g->write = true;
			strcpy(g->ns, ns);
		}
		for (size_t k = 0; k < r->nreads; k++) {
			bool seen = false;

			if (!expand(r->reads[k], claims, ns))
				continue;
			for (size_t j = 0; j < g->nreads; j++)
				seen = seen || strcmp(g->reads[j], ns) == 0;
			if (!seen)
				strcpy(g->reads[g->nreads++], ns);
		}
		if (r->nreads == 0 && g->write) {
			strcpy(g->reads[0], g->ns);
			g->nreads = 1;
		}
		return r->name;
	}
	return NULL;
}

/* Free what one rule holds. */
static void rule_release(struct rule *r)
{
	for (size_t i = 0; i < r->nconds; i++) {
		free(r->conds[i].claim);
		free(r->conds[i].value);
	}
	free(r->write);
	for (size_t i = 0; i < r->nreads; i++)
		free(r->reads[i]);
}

/* Parse one condition word into r; a static reason when it is bad. */
static const char *add_cond(struct rule *r, const char *word)
{
	size_t name = strspn(word, CLAIM_CHARS);
	struct cond *c;

	if (name == 0 || (word[name] != '=' && word[name] != '~'))
		return "a condition is CLAIM=VALUE or CLAIM~GLOB";
	if (r->nconds == RULES_CONDS_MAX)
		return "too many conditions";
	c = &r->conds[r->nconds];
	c->claim = strndup(word, name);
	c->value = strdup(word + name + 1);
	c->glob = word[name] == '~';
	if (c->claim == NULL || c->value == NULL) {
		free(c->claim);
		free(c->value);
		return "out of memory";
	}
	r->nconds++;
	return NULL;
}

/* Parse the comma-separated read templates of list into r. */
static const char *add_reads(struct rule *r, const char *list)
{
	if (r->nreads > 0)
		return "reads= given twice";
	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		char *t;

		if (r->nreads == GRANT_READS_MAX)
			return "too many namespaces in reads=";
		t = strndup(p, len);
		if (t == NULL)
			return "out of memory";
		if (!template_valid(t)) {
			free(t);
			return "reads= holds a bad namespace or template";
		}
		r->reads[r->nreads++] = t;
		if (p[len] == '\0')
			return NULL;
		p += len + 1;
	}
}

/* Parse one grant word (write=... or reads=...) into r. */
static const char *add_grant(struct rule *r, const char *word)
{
	if (strncmp(word, "reads=", 6) == 0)
		return add_reads(r, word + 6);
	if (strncmp(word, "write=", 6) != 0)
		return "after -> come write=TEMPLATE and reads=TEMPLATE,...";
	if (r->write != NULL)
		return "write= given twice";
	if (!template_valid(word + 6))
		return "write= holds a bad namespace or template";
	r->write = strdup(word + 6);
	return r->write == NULL ? "out of memory" : NULL;
}

/* Parse one rule line (comment and blanks already gone) into r. */
static const char *parse_rule(struct rule *r, char *line, const struct rules *rs)
{
	char *save = NULL, *word = strtok_r(line, " \t", &save);
	bool arrow = false;
	const char *why;

	if (strlen(word) > GRANT_NS_MAX || !grant_ns_valid(word))
		return "a rule starts with its name, a short word (letters, digits, - _ . /)";
	strcpy(r->name, word);
	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].name, r->name) == 0)
			return "two rules of the same name";
	while ((word = strtok_r(NULL, " \t", &save)) != NULL) {
		if (!arrow && strcmp(word, "->") == 0) {
			arrow = true;
			continue;
		}
		why = arrow ? add_grant(r, word) : add_cond(r, word);
		if (why != NULL)
			return why;
	}
	if (!arrow || (r->write == NULL && r->nreads == 0))
		return "a rule needs \"->\" and write= or reads= after it";
	return NULL;
}

struct rules *rules_read(FILE *f, const char *name, char **cause)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	char line[RULES_LINE_MAX + 2];
	unsigned lineno = 0;

	if (rs == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		const char *why = NULL;
		char *hash = strchr(line, '#');

		lineno++;
		if (len > RULES_LINE_MAX) {
			cause_set(cause, "%s:%u: line longer than %d characters", name, lineno,
			          RULES_LINE_MAX);
			goto fail;
		}
		/* A comment starts with '#' at the line's start or after a blank. */
		while (hash != NULL && hash != line && hash[-1] != ' ' && hash[-1] != '\t')
			hash = strchr(hash + 1, '#');
		if (hash != NULL)
			*hash = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if (rs->n == RULES_MAX)
			why = "too many rules";
		if (why == NULL) {
			why = parse_rule(&rs->v[rs->n], line, rs);
			rs->n++; /* counted even when bad, so rules_free releases it */
		}
		if (why != NULL) {
			cause_set(cause, "%s:%u: %s", name, lineno, why);
			goto fail;
		}
	}
	if (ferror(f) || rs->n == 0) {
		cause_set(cause, "%s: %s", name, ferror(f) ? "cannot be read" : "holds no rule");
		goto fail;
	}
	return rs;
fail:
	rules_free(rs);
	return NULL;
}

struct rules *rules_load(const char *path, char **cause)
{
	FILE *f = fopen(path, "r");
	struct rules *rs;

	if (f == NULL) {
		cause_set(cause, "%s: cannot open", path);
		return NULL;
	}
	rs = rules_read(f, path, cause);
	fclose(f);
	return rs;
}

void rules_free(struct rules *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_release(&rs->v[i]);
	free(rs);
}
