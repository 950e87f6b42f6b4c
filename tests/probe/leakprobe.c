/* leakprobe.c: renders a clustered, HTML-labelled graph; with "leak" it forgets gvRenderData's buffer. */
#include "viz/output.h"

#include <graphviz/gvc.h>
#include <string.h>

/* Renders and, if forget, drops the only pointer to the buffer. */
static __attribute__((noinline)) void leakprobe_render(GVC_t *gvc, Agraph_t *g, int forget)
{
	char *data = NULL;
	unsigned int len = 0;

	gvRenderData(gvc, g, "svg", &data, &len);
	if (!forget)
		gvFreeRenderData(data);
}

/* Overwrites the dead stack below main, so no stale copy keeps the buffer reachable. */
static __attribute__((noinline)) void leakprobe_scrub(void)
{
	volatile char junk[1 << 16];

	memset((char *)junk, 0, sizeof(junk));
}

int main(int argc, char **argv)
{
	GVC_t *gvc = gvContext();
	Agraph_t *g = agopen("probe", Agdirected, NULL);
	Agraph_t *c = agsubg(g, "cluster_a", 1);
	Agnode_t *a = agnode(c, "a", 1), *b = agnode(g, "b", 1);
	int rc;

	viz_set_html_label(a, "<B>a</B> &amp; b");
	agedge(g, a, b, NULL, 1);
	gvLayout(gvc, g, "dot");
	leakprobe_render(gvc, g, argc > 1 && !strcmp(argv[1], "leak"));
	gvFreeLayout(gvc, g);
	agclose(g);
	rc = gvFreeContext(gvc);
	leakprobe_scrub();
	return rc;
}
