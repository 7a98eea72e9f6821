/*
 * gateway_grant_test.c: namespace names, the default grant and read lists.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "gateway/access/grant.h"

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
