/* waitfor.c: which edges of the wait-for graph lie on a cycle: the deadlock itself, not what hangs off it.
 *
 * An edge u -> v is on a cycle exactly when u and v are in the same strongly
 * connected component (the wait_for view has no self edges). Components by
 * Tarjan's algorithm, iterative so that a 1000-process chain cannot
 * overflow the stack: O(V + E), where a search per edge would be O(V * E).
 */
#include "viz/model.h"

#include "base/util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static int viz_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The position of id in the sorted ids[0..n); it is there. */
static size_t viz_vertex(const int *ids, size_t n, int id)
{
	const int *p = bsearch(&id, ids, n, sizeof(*ids), viz_cmp_int);

	assert(p);
	return (size_t)(p - ids);
}

void viz_waits_mark_cycles(struct viz_wait *waits, size_t n)
{
	size_t nv = 0, next_index = 0, nstack = 0, ncall = 0, ncomp = 0;
	int *ids;
	size_t *start, *fill, *adj, *index, *low, *comp, *stack, *call_v, *call_e;
	char *on_stack;

	if (!n)
		return;
	ids = xmalloc(2 * n * sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		ids[2 * i] = waits[i].pid;
		ids[2 * i + 1] = waits[i].waits_for;
	}
	qsort(ids, 2 * n, sizeof(*ids), viz_cmp_int);
	for (size_t i = 0; i < 2 * n; i++)
		if (!nv || ids[nv - 1] != ids[i])
			ids[nv++] = ids[i];

	/* Adjacency in compressed rows: the targets of vertex v are adj[start[v] .. start[v + 1]). */
	start = xcalloc(nv + 1, sizeof(*start));
	fill = xcalloc(nv, sizeof(*fill));
	adj = xmalloc(n * sizeof(*adj));
	for (size_t i = 0; i < n; i++)
		start[viz_vertex(ids, nv, waits[i].pid) + 1]++;
	for (size_t v = 0; v < nv; v++)
		start[v + 1] += start[v];
	for (size_t i = 0; i < n; i++) {
		size_t u = viz_vertex(ids, nv, waits[i].pid);

		adj[start[u] + fill[u]++] = viz_vertex(ids, nv, waits[i].waits_for);
	}

	index = xmalloc(nv * sizeof(*index));
	low = xmalloc(nv * sizeof(*low));
	comp = xmalloc(nv * sizeof(*comp));
	stack = xmalloc(nv * sizeof(*stack));
	call_v = xmalloc(nv * sizeof(*call_v));
	call_e = xmalloc(nv * sizeof(*call_e));
	on_stack = xcalloc(nv, 1);
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
	for (size_t i = 0; i < n; i++)
		waits[i].cycle = comp[viz_vertex(ids, nv, waits[i].pid)] == comp[viz_vertex(ids, nv, waits[i].waits_for)];
	free(ids), free(start), free(fill), free(adj), free(index), free(low), free(comp);
	free(stack), free(call_v), free(call_e), free(on_stack);
}
