/* dlpipe.c: a pipe made from code the program mapped after its first pipe (dlopen): no pooltrace inside.
 *
 * Built twice (Makefile): as the program, and with -DDLPIPE_LIB as
 * libdlpipe.so beside it. The program makes a pipe, then dlopens the library
 * (an mmap no tracer stops at) and makes a second pipe from its function
 * dlpipe_make: record --stacks must find that frame's module although it
 * was mapped after the process's first stack was taken.
 */
#ifdef DLPIPE_LIB
#include <unistd.h>

int dlpipe_make(int fds[2]);

int dlpipe_make(int fds[2])
{
	/* Not a tail call: this frame stays on the stack during pipe(). */
	int rc = pipe(fds);

	return rc < 0 ? rc : fds[0] < 0;
}
#else
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[4096], *slash;
	int a[2], b[2];
	void *lib;
	int (*make)(int[2]);

	(void)argc;
	if (pipe(a) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s", argv[0]);
	slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, sizeof(path) - (size_t)(slash ? slash + 1 - path : 0), "libdlpipe.so");
	if (!(lib = dlopen(path, RTLD_NOW)) || !(*(void **)&make = dlsym(lib, "dlpipe_make"))) {
		fprintf(stderr, "dlpipe: %s\n", dlerror());
		return 1;
	}
	if (make(b) < 0)
		return 1;
	puts("two pipes");
	dlclose(lib);
	return 0;
}
#endif
