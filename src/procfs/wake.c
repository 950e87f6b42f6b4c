/* wake.c: what /proc says about a signal that could still wake a process whose threads are all blocked.
 *
 * The deadlock check sees every thread blocked on the program's own pipes.
 * A timer whose signal the program catches (alarm, setitimer, a POSIX
 * timer) can still run a handler that writes or closes one of them; the
 * tracer knows which timers are armed (it stops at the calls that arm
 * them), and asks here whether their signal would reach a handler.
 */
#include "procfs/wake.h"
#include "base/util.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The hex mask after "\nNAME:" in a status file; false when absent. */
static bool wake_mask(const char *status, const char *name, uint64_t *mask)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "\n%s:", name);
	if (!(p = strstr(status, key)))
		return false;
	*mask = strtoull(p + strlen(key), NULL, 16);
	return true;
}

bool wake_caught(pid_t pid, const pid_t *tids, size_t ntids, int sig)
{
	assert(sig >= 1 && sig <= 64);
	uint64_t bit = 1ULL << (sig - 1), caught, blocked;
	char path[64], buf[4096];

	for (size_t i = 0; i < ntids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tids[i]);
		if (read_small_file(path, buf, sizeof(buf)) < 0)
			continue;
		/* SigCgt is the process's (handlers are shared); SigBlk the thread's own. */
		if (!wake_mask(buf, "SigCgt", &caught) || !(caught & bit))
			return false;
		if (wake_mask(buf, "SigBlk", &blocked) && !(blocked & bit))
			return true;
	}
	return false;
}

int wake_timer_signals(pid_t pid, int *sigs, size_t max)
{
	char path[64], line[256];
	FILE *f;
	int sig = 0, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/timers", (int)pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	/* Each timer: "ID: 0", "signal: 14/0000000000000000", "notify: signal/pid.123", "ClockID: 1". */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "signal: %d/", &sig) == 1)
			continue;
		if (!strncmp(line, "notify: signal/", 15) && sig >= 1 && sig <= 64) {
			if ((size_t)n < max)
				sigs[n] = sig;
			n++;
		}
	}
	fclose(f);
	return n;
}
