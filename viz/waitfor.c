/* waitfor.c: which edges of the wait-for graph lie on a cycle: the deadlock itself, not what hangs off it.
 *
 * An edge u -> v is on a cycle exactly when u and v are in the same strongly
 * connected component (the wait_for view has no self edges). Components by
 * Tarjan's algorithm, iterative so that a 1000-process chain cannot
 * overflow the stack: O(V + E), where a search per edge would be O(V * E).
 * Vertices are numbered through a hash table of pids as edges arrive, so
 * that a 1000-worker deadlock's half million edges are taken one by one as
 * they are read, with no sort (render draws a few of them, but whether an
 * edge is on a cycle is a question about all of them).
 */
#include "viz/model.h"

#include "base/util.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

/* The graph, its vertices numbered as they first appear. */
struct viz_waitgraph {
	int *pids;       /* hash table of vertices, open addressing */
	size_t *slot_of; /* each used slot's vertex number, plus one (0: an empty slot) */
	size_t cap, nv;
	size_t *from, *to; /* the edges, by vertex number */
	size_t nedges, edges_cap;
	size_t *comp;    /* once computed: each vertex's strongly connected component */
	struct viz_wait first; /* the first edge added */
};

struct viz_waitgraph *viz_waitgraph_new(void)
{
	struct viz_waitgraph *g = xcalloc(1, sizeof(*g));

	g->cap = 1024;
	g->pids = xcalloc(g->cap, sizeof(*g->pids));
	g->slot_of = xcalloc(g->cap, sizeof(*g->slot_of));
	return g;
}

/* The slot of pid (or of the empty slot where it goes) in pids[0..cap). */
static size_t viz_waitgraph_slot(const struct viz_waitgraph *g, int pid)
{
	size_t i = ((size_t)(unsigned)pid * 2654435761u) & (g->cap - 1);

	while (g->slot_of[i] && g->pids[i] != pid)
		i = (i + 1) & (g->cap - 1);
	return i;
}

/* pid's vertex number, numbering it if it is new. */
static size_t viz_waitgraph_vertex(struct viz_waitgraph *g, int pid)
{
	size_t i = viz_waitgraph_slot(g, pid);

	if (g->slot_of[i])
		return g->slot_of[i] - 1;
	if (2 * (g->nv + 1) > g->cap) {
		/* Half full at most: grow, and put every vertex back. */
		int *pids = g->pids;
		size_t *slot_of = g->slot_of, cap = g->cap;

		g->cap *= 2;
		g->pids = xcalloc(g->cap, sizeof(*g->pids));
		g->slot_of = xcalloc(g->cap, sizeof(*g->slot_of));
		for (size_t k = 0; k < cap; k++)
			if (slot_of[k]) {
				size_t j = viz_waitgraph_slot(g, pids[k]);

				g->pids[j] = pids[k];
				g->slot_of[j] = slot_of[k];
			}
		free(pids);
		free(slot_of);
		i = viz_waitgraph_slot(g, pid);
	}
	g->pids[i] = pid;
	g->slot_of[i] = g->nv + 1;
	return g->nv++;
}

void viz_waitgraph_add(struct viz_waitgraph *g, int pid, int waits_for)
{
	assert(!g->comp);
	if (!g->nedges)
		g->first = (struct viz_wait){ .pid = pid, .waits_for = waits_for };
	if (g->nedges == g->edges_cap) {
		g->edges_cap = g->edges_cap ? 2 * g->edges_cap : 1024;
		g->from = xrealloc(g->from, g->edges_cap * sizeof(*g->from));
		g->to = xrealloc(g->to, g->edges_cap * sizeof(*g->to));
	}
	g->from[g->nedges] = viz_waitgraph_vertex(g, pid);
	g->to[g->nedges++] = viz_waitgraph_vertex(g, waits_for);
}

/* g->comp: each vertex's strongly connected component, by Tarjan's algorithm. */
static void viz_waitgraph_components(struct viz_waitgraph *g)
{
	size_t nv = g->nv, n = g->nedges, next_index = 0, nstack = 0, ncall = 0, ncomp = 0;
	size_t *start, *fill, *adj, *index, *low, *comp, *stack, *call_v, *call_e;
	char *on_stack;

	/* Adjacency in compressed rows: the targets of vertex v are adj[start[v] .. start[v + 1]). */
	start = xcalloc(nv + 1, sizeof(*start));
	fill = xcalloc(nv + 1, sizeof(*fill));
	adj = xmalloc((n + 1) * sizeof(*adj));
	for (size_t i = 0; i < n; i++)
		start[g->from[i] + 1]++;
	for (size_t v = 0; v < nv; v++)
		start[v + 1] += start[v];
	for (size_t i = 0; i < n; i++) {
		size_t u = g->from[i];

		adj[start[u] + fill[u]++] = g->to[i];
	}

	index = xmalloc((nv + 1) * sizeof(*index));
	low = xmalloc((nv + 1) * sizeof(*low));
	comp = xmalloc((nv + 1) * sizeof(*comp));
	stack = xmalloc((nv + 1) * sizeof(*stack));
	call_v = xmalloc((nv + 1) * sizeof(*call_v));
	call_e = xmalloc((nv + 1) * sizeof(*call_e));
	on_stack = xcalloc(nv + 1, 1);
	for (size_t v = 0; v < nv; v++)
		index[v] = SIZE_MAX;
	for (size_t root = 0; root < nv; root++) {
		if (index[root] != SIZE_MAX)
			continue;
		/* Enter root; then each frame walks its vertex's edges from call_e. */
		index[root] = low[root] = next_index++;
		stack[nstack++] = root;
		on_stack[root] = 1;
		call_v[ncall] = root;
		call_e[ncall++] = start[root];
		while (ncall) {
			size_t v = call_v[ncall - 1];

			if (call_e[ncall - 1] < start[v + 1]) {
				size_t w = adj[call_e[ncall - 1]++];

				if (index[w] == SIZE_MAX) {
					index[w] = low[w] = next_index++;
					stack[nstack++] = w;
					on_stack[w] = 1;
					call_v[ncall] = w;
					call_e[ncall++] = start[w];
				} else if (on_stack[w] && index[w] < low[v]) {
					low[v] = index[w];
				}
				continue;
			}
			/* v is done: a component's root pops it; its caller learns its low. */
			if (low[v] == index[v]) {
				size_t w;

				do {
					w = stack[--nstack];
					on_stack[w] = 0;
					comp[w] = ncomp;
				} while (w != v);
				ncomp++;
			}
			if (--ncall && low[v] < low[call_v[ncall - 1]])
				low[call_v[ncall - 1]] = low[v];
		}
	}
	g->comp = comp;
	free(start), free(fill), free(adj), free(index), free(low);
	free(stack), free(call_v), free(call_e), free(on_stack);
}

void viz_waitgraph_mark(struct viz_waitgraph *g, struct viz_wait *waits, size_t n)
{
	if (!g->comp)
		viz_waitgraph_components(g);
	for (size_t i = 0; i < n; i++) {
		size_t u = viz_waitgraph_slot(g, waits[i].pid), v = viz_waitgraph_slot(g, waits[i].waits_for);

		/* An edge not of the graph (its ends are not both vertices) is on none of its cycles. */
		waits[i].cycle = g->slot_of[u] && g->slot_of[v] && g->comp[g->slot_of[u] - 1] == g->comp[g->slot_of[v] - 1];
	}
}

bool viz_waitgraph_first(struct viz_waitgraph *g, struct viz_wait *w)
{
	if (!g->nedges)
		return false;
	*w = g->first;
	viz_waitgraph_mark(g, w, 1);
	return true;
}

static int viz_waitgraph_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

size_t viz_waitgraph_bundle(struct viz_waitgraph *g, const int *drawn, size_t n, struct viz_wait **out)
{
	/* Per drawn process: its bundle out (to those not drawn) and in (from them). */
	struct viz_wait *to = xcalloc(n + 1, sizeof(*to)), *from = xcalloc(n + 1, sizeof(*from));
	int *vpid = xcalloc(g->nv + 1, sizeof(*vpid));
	long *at = xcalloc(g->nv + 1, sizeof(*at)); /* each vertex's place in drawn, -1: not drawn */
	size_t nout = 0;

	if (!g->comp)
		viz_waitgraph_components(g);
	for (size_t i = 0; i < g->cap; i++)
		if (g->slot_of[i])
			vpid[g->slot_of[i] - 1] = g->pids[i];
	for (size_t v = 0; v < g->nv; v++) {
		const int *d = n ? bsearch(&vpid[v], drawn, n, sizeof(*drawn), viz_waitgraph_cmp_int) : NULL;

		at[v] = d ? d - drawn : -1;
	}
	for (size_t e = 0; e < g->nedges; e++) {
		size_t u = g->from[e], v = g->to[e];
		struct viz_wait *b;

		if ((at[u] < 0) == (at[v] < 0))
			continue; /* both drawn (an edge of its own) or neither (not in the picture) */
		b = at[u] >= 0 ? &to[at[u]] : &from[at[v]];
		if (!b->bundled) {
			b->pid = at[u] >= 0 ? vpid[u] : VIZ_WAIT_GROUP;
			b->waits_for = at[v] >= 0 ? vpid[v] : VIZ_WAIT_GROUP;
		}
		b->bundled++;
		b->cycle |= g->comp[u] == g->comp[v];
	}
	*out = NULL;
	for (size_t i = 0; i < n; i++)
		nout += (to[i].bundled > 0) + (from[i].bundled > 0);
	if (nout) {
		size_t k = 0;

		*out = xcalloc(nout, sizeof(**out));
		for (size_t i = 0; i < n; i++) {
			if (to[i].bundled)
				(*out)[k++] = to[i];
			if (from[i].bundled)
				(*out)[k++] = from[i];
		}
		assert(k == nout);
	}
	free(to), free(from), free(vpid), free(at);
	return nout;
}

void viz_waitgraph_free(struct viz_waitgraph *g)
{
	if (!g)
		return;
	free(g->pids), free(g->slot_of), free(g->from), free(g->to), free(g->comp);
	free(g);
}

void viz_waits_mark_cycles(struct viz_wait *waits, size_t n)
{
	struct viz_waitgraph *g = viz_waitgraph_new();

	for (size_t i = 0; i < n; i++)
		viz_waitgraph_add(g, waits[i].pid, waits[i].waits_for);
	viz_waitgraph_mark(g, waits, n);
	viz_waitgraph_free(g);
}
