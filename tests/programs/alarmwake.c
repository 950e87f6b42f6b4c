/* alarmwake: every thread blocked on the program's own pipe, but a timer
 * will wake it. The parent makes a pipe, forks a child that reads it to EOF,
 * and waits for that child while it still holds the write end: a deadlock,
 * but for the timer armed first. Its handler closes the write end, so the
 * child sees EOF and both exit 0.
 *
 *   alarmwake alarm     alarm(1), SIGALRM caught
 *   alarmwake itimer    setitimer(ITIMER_REAL, 1 s), SIGALRM caught
 *   alarmwake posix     timer_create(SIGEV_SIGNAL, SIGUSR1) + timer_settime(1 s), SIGUSR1 caught
 *   alarmwake default   alarm(2), SIGALRM left to its default: the parent dies of it (a watchdog)
 *   alarmwake blocked   alarm(1), SIGALRM caught but blocked: nothing wakes it (a deadlock)
 *
 * A second argument, a number of seconds, sets the posix timer's delay
 * instead of 1 s: long enough for a snapshot to look at it first.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int wfd = -1;

static void on_timer(int sig)
{
	(void)sig;
	close(wfd);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "alarm";
	struct sigaction sa;
	int fds[2], status;
	char c;
	pid_t child;

	if (pipe(fds) < 0)
		return 100;
	wfd = fds[1];
	child = fork();
	if (child < 0)
		return 101;
	if (child == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(fds[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer;
	sigemptyset(&sa.sa_mask);
	if (!strcmp(mode, "posix")) {
		struct sigevent sev = { 0 };
		struct itimerspec its = { { 0, 0 }, { argc > 2 ? atoi(argv[2]) : 1, 0 } };
		timer_t timer;

		sigaction(SIGUSR1, &sa, NULL);
		sev.sigev_notify = SIGEV_SIGNAL;
		sev.sigev_signo = SIGUSR1;
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0 || timer_settime(timer, 0, &its, NULL) < 0)
			return 102;
	} else if (!strcmp(mode, "itimer")) {
		struct itimerval itv = { { 0, 0 }, { 1, 0 } };

		sigaction(SIGALRM, &sa, NULL);
		if (setitimer(ITIMER_REAL, &itv, NULL) < 0)
			return 103;
	} else if (!strcmp(mode, "default")) {
		alarm(2);
	} else {
		sigset_t set;

		sigaction(SIGALRM, &sa, NULL);
		if (!strcmp(mode, "blocked")) {
			sigemptyset(&set);
			sigaddset(&set, SIGALRM);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		alarm(1);
	}
	while (waitpid(child, &status, 0) < 0)
		; /* EINTR: the handler ran */
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
