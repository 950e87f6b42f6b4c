/* proctree.c: the processes /proc lists, each with its parent and name, and the trees they form.
 *
 * A tree read this way is a moment's: a process may fork or end while it is
 * read. Callers that must not miss a process (an attach) read it again
 * until nothing new appears.
 */
#include "procfs/proctree.h"
#include "base/util.h"
#include "procfs/hang.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int proctree_stat(pid_t pid, pid_t *ppid, char *comm, size_t len)
{
	char path[64], buf[1024], *open, *close;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((n = read_small_file(path, buf, sizeof(buf))) < 0)
		return -errno ? -errno : -EIO;
	/* "pid (comm) S ppid ...": comm may hold ')' and spaces. */
	if (n == 0 || !(open = strchr(buf, '(')) || !(close = strrchr(buf, ')')) || strlen(close) < 4)
		return -EIO;
	snprintf(comm, len, "%.*s", (int)(close - open - 1), open + 1);
	*ppid = (pid_t)strtol(close + 4, NULL, 10);
	return 0;
}

size_t proctree_list(struct proctree_proc **out)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	struct proctree_proc *v = NULL;
	size_t n = 0, cap = 0;
	pid_t self = getpid();

	*out = NULL;
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		struct proctree_proc p = { 0 };

		if (!isdigit((unsigned char)de->d_name[0]) || (p.pid = (pid_t)atoi(de->d_name)) == self ||
		    proctree_stat(p.pid, &p.ppid, p.comm, sizeof(p.comm)) < 0)
			continue;
		ALLOC_GROW(v, n + 1, cap, 256);
		v[n++] = p;
	}
	closedir(dir);
	*out = v;
	return n;
}

static void proctree_swap(struct proctree_proc *p, size_t a, size_t b)
{
	struct proctree_proc tmp = p[a];

	p[a] = p[b];
	p[b] = tmp;
}

size_t proctree_select(struct proctree_proc *p, size_t n, const pid_t *roots, size_t nroots)
{
	size_t k = 0;

	for (size_t r = 0; r < nroots; r++)
		for (size_t i = k; i < n; i++)
			if (p[i].pid == roots[r]) {
				proctree_swap(p, k++, i);
				break;
			}
	/* Breadth first: each process's children after it. */
	for (size_t j = 0; j < k; j++)
		for (size_t i = k; i < n; i++)
			if (p[i].ppid == p[j].pid)
				proctree_swap(p, k++, i);
	return k;
}

size_t proctree_outside_pipes(const struct inomap *pipes, bool (*inside)(void *ctx, pid_t pid), void *ctx,
			      struct inomap *outside)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	size_t unread = 0;
	pid_t self = getpid();

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char path[64];
		struct dirent *fe;
		DIR *fds;
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]) || (pid = (pid_t)atoi(de->d_name)) == self || inside(ctx, pid))
			continue;
		/* Through a live thread: a main thread that called pthread_exit shows no fds. */
		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)pid, (int)hang_fd_thread(pid));
		if (!(fds = opendir(path))) {
			unread += errno == EACCES;
			continue;
		}
		while ((fe = readdir(fds))) {
			struct stat st;

			if (isdigit((unsigned char)fe->d_name[0]) && fstatat(dirfd(fds), fe->d_name, &st, 0) == 0 &&
			    S_ISFIFO(st.st_mode) && inomap_get(pipes, st.st_ino))
				inomap_put(outside, st.st_ino, 1);
		}
		closedir(fds);
	}
	closedir(dir);
	return unread;
}

int proctree_pipes_of(pid_t pid, struct inomap *pipes)
{
	char path[64];
	struct dirent *fe;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)pid, (int)hang_fd_thread(pid));
	if (!(fds = opendir(path)))
		return -errno;
	while ((fe = readdir(fds))) {
		struct stat st;

		if (isdigit((unsigned char)fe->d_name[0]) && fstatat(dirfd(fds), fe->d_name, &st, 0) == 0 &&
		    S_ISFIFO(st.st_mode))
			inomap_put(pipes, st.st_ino, 1);
	}
	closedir(fds);
	return 0;
}
