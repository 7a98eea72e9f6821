/*
 * gateway_grant_test.c: namespace names, the default grant and read lists,
 * and the metrics counted by grant label.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access/grant.h"
#include "gateway/ops/grant_metrics.h"

Test(gateway_grant, names_are_short_safe_words)
{
	const char *good[] = { "main", "pr-42", "refs/heads/main", "a", "v1.2_x", "A/b/C" };
	const char *bad[] = { "", "/main", "main/", "a//b", ".", "..", "a/../b", "./a", "a/.",
	                      "sp ace", "semi;colon", "new\nline", "back\\slash", "%2e", "é" };
	char longest[GRANT_NS_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(grant_ns_valid(good[i]), "\"%s\" is a namespace name", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!grant_ns_valid(bad[i]), "\"%s\" is not a namespace name", bad[i]);
	memset(longest, 'n', GRANT_NS_MAX);
	longest[GRANT_NS_MAX] = '\0';
	cr_expect(grant_ns_valid(longest));
	longest[GRANT_NS_MAX] = 'n';
	longest[GRANT_NS_MAX + 1] = '\0';
	cr_expect(!grant_ns_valid(longest), "one character more than GRANT_NS_MAX is refused");
}

Test(gateway_grant, the_default_grant_reads_and_writes_default)
{
	struct grant g;

	grant_default(&g, true);
	cr_expect(g.write);
	cr_expect_str_eq(g.ns, "default");
	cr_expect_eq(g.nreads, 1);
	cr_expect_str_eq(g.reads[0], "default");
	grant_default(&g, false);
	cr_expect(!g.write);
	cr_expect_str_eq(g.ns, "", "a read grant writes nowhere");
}

Test(gateway_grant, a_read_list_keeps_its_order_and_refuses_bad_names)
{
	struct grant g;

	grant_default(&g, true);
	cr_assert(grant_parse_reads(&g, "pr-42,main"));
	cr_expect_eq(g.nreads, 2);
	cr_expect_str_eq(g.reads[0], "pr-42");
	cr_expect_str_eq(g.reads[1], "main");
	cr_expect(!grant_parse_reads(&g, ""));
	cr_expect(!grant_parse_reads(&g, "main,"));
	cr_expect(!grant_parse_reads(&g, "main,,dev"));
	cr_expect(!grant_parse_reads(&g, "main,../x"));
	cr_expect(!grant_parse_reads(&g, "a,b,c,d,e,f,g,h,i"), "more than GRANT_READS_MAX");
	cr_expect_eq(g.nreads, 2, "a refused list leaves the grant as it was");
	cr_expect_str_eq(g.reads[0], "pr-42");
	cr_expect(grant_parse_reads(&g, "a,b,c,d,e,f,g,h"));
	cr_expect_eq(g.nreads, GRANT_READS_MAX);
}

/* The value of sample name (with its labels) in text, or -1. */
static long long sample(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

Test(gateway_grant, metrics_count_by_label_with_bounded_cardinality)
{
	struct grant_metrics *m = grant_metrics_new();
	char label[16], name[128], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(m);
	for (int i = 0; i < GRANT_METRICS_MAX + 6; i++) {
		snprintf(label, sizeof(label), "pr-%d", i);
		grant_metrics_count(m, label, GRANT_WRITE);
	}
	grant_metrics_count(m, "main", GRANT_HIT);
	grant_metrics_count(m, "pr-0", GRANT_HIT);
	grant_metrics_count(m, "pr-0", GRANT_MISS);
	grant_metrics_render(m, f);
	fclose(f);
	cr_expect_eq(sample(text, "cachegate_ac_writes_total{grant=\"pr-0\"}"), 1);
	snprintf(name, sizeof(name), "cachegate_ac_writes_total{grant=\"pr-%d\"}", GRANT_METRICS_MAX - 1);
	cr_expect_eq(sample(text, name), 1, "the first labels are counted apart");
	snprintf(name, sizeof(name), "cachegate_ac_writes_total{grant=\"pr-%d\"}", GRANT_METRICS_MAX);
	cr_expect_eq(sample(text, name), -1, "later ones are not");
	cr_expect_eq(sample(text, "cachegate_ac_writes_total{grant=\"other\"}"), 6);
	cr_expect_eq(sample(text, "cachegate_ac_lookups_total{grant=\"other\",result=\"hit\"}"), 1,
	             "main came too late");
	cr_expect_eq(sample(text, "cachegate_ac_lookups_total{grant=\"pr-0\",result=\"hit\"}"), 1);
	cr_expect_eq(sample(text, "cachegate_ac_lookups_total{grant=\"pr-0\",result=\"miss\"}"), 1);
	free(text);
	grant_metrics_free(m);
}
