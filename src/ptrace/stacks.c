/* stacks.c: record --stacks: a traced thread's user-space stack, unwound and named with libdwfl while it is stopped.
 *
 * One libdwfl session (Dwfl) per traced process, made at its first capture:
 * the modules it maps (/proc/PID/maps) and the process itself, attached with
 * assume_ptrace_stopped, since its threads are already ptrace-stopped by
 * the tracer (libdwfl then reads their registers and memory with ptrace and
 * neither attaches nor detaches). The session lives until the process
 * execs (a new address space) or ends. The program may map more later
 * (dlopen) without a traced call: when a frame's pc is in no module, the
 * modules are reported again and the frames looked up once more.
 *
 * A session holds fds (the files it mapped, /proc/PID/task): about 4 each,
 * measured on a 300-worker pool (1218 fds in pooltrace with one session per
 * live process). So at most STACKS_LIVE_MAX sessions live at once, fewer
 * under a low fd limit; the least recently used is ended to make room, and
 * made again at its process's next capture.
 *
 * A capture unwinds the pcs (libdwfl's CFI unwinder) and takes each one's
 * module and offset there: that is enough for the stack's id (a hash of
 * them, stackrows_hash). Only a stack not seen before is named: each frame's
 * function (the symbol table, demangled; with debug info the innermost
 * inlined function's linkage name, so a constructor inlined into main is
 * still itself) and its file:line (the DWARF line table).
 *
 * As strace -k does (src/unwind-libdw.c), a caller's pc is a return address:
 * one byte back is inside the call, so its line is the call's.
 */
#include "ptrace/stacks.h"

#include "core/stackrows.h"
#include "base/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define STACKS_DEPTH 64    /* frames kept, innermost first */
#define STACKS_LIVE_MAX 32 /* sessions at once */
#define STACKS_FDS_EACH 8  /* fds budgeted per session (4 measured) */
#define STACKS_FDS_OWN 128 /* left to the tracer itself */

struct stacks_proc {
	Dwfl *dwfl;
	pid_t tgid;
	uint64_t used; /* stacks.clock at its last capture */
	size_t slot;   /* its index in stacks.live */
	/* pcs still in no module after the maps were read again (code made at run
	 * time, a JIT's): not worth reading them once more at every capture. */
	struct inomap unmapped;
};

struct stacks {
	struct inomap procs; /* tgid -> struct stacks_proc * (0: none) */
	struct stacks_proc **live;
	size_t nlive, max_live;
	uint64_t clock;
	struct stackrows *rows;
	void *cxxlib; /* libstdc++, for __cxa_demangle; NULL: names stay mangled */
	char *(*demangle)(const char *name, char *buf, size_t *len, int *status);
	bool demangle_tried;
};

static bool stacks_system(const char *module);

/*
 * Debug info for the program's own modules only. The C library's (libc6-dbg)
 * is tens of MB that libdwfl would open in every process's session, for its
 * .debug_frame and line table: its frames are unwound from .eh_frame and
 * named from its symbols instead, and the words use the program's frame.
 */
static int stacks_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
				 const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
				 char **debuginfo_file_name)
{
	if (stacks_system(modname))
		return -1;
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
					    debuginfo_file_name);
}

static const Dwfl_Callbacks stacks_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = stacks_find_debuginfo,
};

struct stacks *stacks_new(void)
{
	struct stacks *s = xcalloc(1, sizeof(*s));
	struct rlimit rl;

	s->rows = stackrows_new();
	s->max_live = STACKS_LIVE_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		s->max_live = rl.rlim_cur < STACKS_FDS_OWN + STACKS_FDS_EACH ? 1
			      : (rl.rlim_cur - STACKS_FDS_OWN) / STACKS_FDS_EACH < STACKS_LIVE_MAX
				      ? (size_t)((rl.rlim_cur - STACKS_FDS_OWN) / STACKS_FDS_EACH)
				      : STACKS_LIVE_MAX;
	s->live = xcalloc(s->max_live, sizeof(*s->live));
	return s;
}

static void stacks_end(struct stacks_proc *p)
{
	if (p) {
		dwfl_end(p->dwfl);
		inomap_release(&p->unmapped);
		free(p);
	}
}

void stacks_free(struct stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->procs.cap; i++)
		if (s->procs.slots[i].inode)
			stacks_end((struct stacks_proc *)(intptr_t)s->procs.slots[i].value);
	inomap_release(&s->procs);
	free(s->live);
	stackrows_free(s->rows);
	if (s->cxxlib)
		dlclose(s->cxxlib);
	free(s);
}

void stacks_forget(struct stacks *s, pid_t tgid)
{
	struct stacks_proc *p = (struct stacks_proc *)(intptr_t)inomap_get(&s->procs, (uint64_t)tgid);

	if (!p)
		return;
	s->live[p->slot] = s->live[--s->nlive];
	s->live[p->slot]->slot = p->slot;
	stacks_end(p);
	inomap_put(&s->procs, (uint64_t)tgid, 0);
}

const struct stackrows *stacks_rows(const struct stacks *s)
{
	return s->rows;
}

void stacks_link(struct stacks *s, uint64_t seq, int64_t id)
{
	if (id)
		stackrows_event(s->rows, seq, id);
}

/* What process tgid maps, (re)read from /proc/PID/maps: 0, or -EIO (the process gone, a file unreadable). */
static int stacks_report(struct stacks_proc *p)
{
	dwfl_report_begin(p->dwfl);
	if (dwfl_linux_proc_report(p->dwfl, p->tgid) != 0) {
		dwfl_report_end(p->dwfl, NULL, NULL);
		return -EIO;
	}
	return dwfl_report_end(p->dwfl, NULL, NULL) == 0 ? 0 : -EIO;
}

static struct stacks_proc *stacks_proc(struct stacks *s, pid_t tgid)
{
	struct stacks_proc *p = (struct stacks_proc *)(intptr_t)inomap_get(&s->procs, (uint64_t)tgid);

	if (p) {
		p->used = ++s->clock;
		return p;
	}
	if (s->nlive == s->max_live) {
		/* Room for one more: the least recently used one ends. */
		struct stacks_proc *old = s->live[0];

		for (size_t i = 1; i < s->nlive; i++)
			if (s->live[i]->used < old->used)
				old = s->live[i];
		stacks_forget(s, old->tgid);
	}
	p = xcalloc(1, sizeof(*p));
	p->tgid = tgid;
	if (!(p->dwfl = dwfl_begin(&stacks_callbacks)) || stacks_report(p) < 0 ||
	    dwfl_linux_proc_attach(p->dwfl, tgid, true) != 0) {
		/* Not kept: the next capture tries again (the process may be gone). */
		stacks_end(p);
		return NULL;
	}
	inomap_put(&s->procs, (uint64_t)tgid, (int64_t)(intptr_t)p);
	p->used = ++s->clock;
	p->slot = s->nlive;
	s->live[s->nlive++] = p;
	return p;
}

struct stacks_walk {
	Dwarf_Addr pcs[STACKS_DEPTH];
	size_t n;
};

static int stacks_frame(Dwfl_Frame *state, void *arg)
{
	struct stacks_walk *w = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	/* A return address: one byte back is the call instruction. */
	w->pcs[w->n++] = activation ? pc : pc - 1;
	return w->n < STACKS_DEPTH ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* name demangled into a new string when it is a C++ one, else a copy. */
static char *stacks_demangle(struct stacks *s, const char *name)
{
	char *d;
	int status = -1;

	if (strncmp(name, "_Z", 2))
		return xstrdup(name);
	if (!s->demangle_tried) {
		s->demangle_tried = true;
		/* Looked up at run time: no C++ library is needed to build pooltrace. */
		if ((s->cxxlib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL)))
			*(void **)&s->demangle = dlsym(s->cxxlib, "__cxa_demangle");
	}
	if (!s->demangle || !(d = s->demangle(name, NULL, NULL, &status)) || status != 0)
		return xstrdup(name);
	/* Its own malloc'd string: copied so that every text here is ours. */
	{
		char *copy = xstrdup(d);

		free(d);
		return copy;
	}
}

/*
 * With debug info: the innermost function at pc, an inlined one included,
 * by its linkage name (a member function's, ProcessPool::ProcessPool) or its
 * name. NULL without DWARF there.
 */
static const char *stacks_dwarf_name(Dwfl_Module *mod, Dwarf_Addr pc)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias), *scopes = NULL;
	const char *name = NULL;
	int n;

	if (!cu || (n = dwarf_getscopes(cu, pc - bias, &scopes)) <= 0)
		return NULL;
	for (int i = 0; i < n && !name; i++) {
		int tag = dwarf_tag(&scopes[i]);
		Dwarf_Attribute attr;

		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		if (dwarf_attr_integrate(&scopes[i], DW_AT_linkage_name, &attr) ||
		    dwarf_attr_integrate(&scopes[i], DW_AT_MIPS_linkage_name, &attr))
			name = dwarf_formstring(&attr);
		if (!name)
			name = dwarf_diename(&scopes[i]);
	}
	free(scopes);
	return name;
}

/* Whether a module is the C library or the dynamic loader (or the vDSO): not the program's own code. */
static bool stacks_system(const char *module)
{
	const char *base;

	if (!module)
		return true;
	base = strrchr(module, '/') ? strrchr(module, '/') + 1 : module;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5) || !strncmp(base, "ld-linux", 8) ||
	       !strncmp(base, "ld64.so", 7) || !strncmp(base, "libpthread", 10) || !strcmp(base, "[vdso]") ||
	       !strncmp(base, "linux-vdso", 10);
}

int64_t stacks_capture(struct stacks *s, pid_t tgid, pid_t tid)
{
	struct stacks_proc *p = stacks_proc(s, tgid);
	struct stacks_walk w = { .n = 0 };
	struct stack_frame frames[STACKS_DEPTH];
	Dwfl_Module *mods[STACKS_DEPTH];
	bool reported = false;
	int64_t id;
	int own = -1;

	if (!p)
		return 0;
	for (;;) {
		bool missing = false;

		/* An error past some frames (an outermost frame without CFI) still leaves those. */
		w.n = 0;
		dwfl_getthread_frames(p->dwfl, tid, stacks_frame, &w);
		if (!w.n)
			return 0;
		for (size_t i = 0; i < w.n; i++)
			if (!(mods[i] = dwfl_addrmodule(p->dwfl, w.pcs[i])) && w.pcs[i]) {
				missing |= !inomap_get(&p->unmapped, w.pcs[i]);
				if (reported)
					inomap_put(&p->unmapped, w.pcs[i], 1);
			}
		/* Mapped since the last report (dlopen): the maps are read again,
		 * once, and the stack unwound anew (the frames past the unknown
		 * one were guessed without its CFI). */
		if (!missing || reported || stacks_report(p) < 0)
			break;
		reported = true;
	}
	memset(frames, 0, sizeof(frames));
	for (size_t i = 0; i < w.n; i++) {
		Dwarf_Addr start = 0;

		if (mods[i])
			frames[i].module = dwfl_module_info(mods[i], NULL, &start, NULL, NULL, NULL, NULL, NULL);
		frames[i].module_offset = w.pcs[i] - start;
	}
	id = stackrows_hash(frames, w.n);
	if (stackrows_has(s->rows, id))
		return id;
	/* Seen for the first time: named. */
	for (size_t i = 0; i < w.n; i++) {
		GElf_Off off = 0;
		GElf_Sym sym;
		const char *name;
		Dwfl_Line *line;

		if (own < 0 && !stacks_system(frames[i].module))
			own = (int)i;
		if (!mods[i])
			continue;
		name = dwfl_module_addrinfo(mods[i], w.pcs[i], &off, &sym, NULL, NULL, NULL);
		if (name) {
			const char *inl = stacks_dwarf_name(mods[i], w.pcs[i]);

			frames[i].function = stacks_demangle(s, inl ? inl : name);
			frames[i].function_offset = off;
		}
		if ((line = dwfl_module_getsrc(mods[i], w.pcs[i])))
			frames[i].file = dwfl_lineinfo(line, NULL, &frames[i].line, NULL, NULL, NULL);
	}
	stackrows_add(s->rows, id, frames, w.n, own);
	for (size_t i = 0; i < w.n; i++)
		free((char *)frames[i].function);
	return id;
}
