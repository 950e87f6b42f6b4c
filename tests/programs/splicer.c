/*
 * splicer.c: moves bytes between pipes without read or write: splice, tee,
 * vmsplice and sendfile, each once, with known sizes. Nothing of pooltrace in it.
 *   write 8 bytes into pipe a; splice 8 from a into b; tee 8 from b into c
 *   (b keeps them); vmsplice 5 bytes into a; sendfile 3 bytes of a file into c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

static void need(long got, long want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "splicer: %s returned %ld, not %ld\n", what, got, want);
		exit(1);
	}
}

int main(void)
{
	int a[2], b[2], c[2];
	char file[] = "/tmp/splicer-XXXXXX";
	struct iovec iov = { "hello", 5 };
	int fd = mkstemp(file);

	if (fd < 0 || pipe(a) < 0 || pipe(b) < 0 || pipe(c) < 0)
		return 1;
	unlink(file);
	need(write(fd, "xyz", 3), 3, "write to the file");
	need(write(a[1], "12345678", 8), 8, "write");
	need(splice(a[0], NULL, b[1], NULL, 8, 0), 8, "splice");
	need(tee(b[0], c[1], 8, 0), 8, "tee");
	need(vmsplice(a[1], &iov, 1, 0), 5, "vmsplice");
	need(sendfile(c[1], fd, &(off_t){ 0 }, 3), 3, "sendfile");
	puts("moved");
	return 0;
}
