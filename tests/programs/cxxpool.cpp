// cxxpool.cpp: the textbook C++ process pool, as a course would write it: a
// class that owns one pipe per worker, forks in its constructor, and in its
// destructor closes each write end and waits for that worker, in order. Each
// child inherits the write ends of every earlier worker's pipe, so the
// destructor hangs on worker 0. Nothing of pooltrace is in it.
// Usage: cxxpool N [fixed|naive] [TASKS]. "fixed": each child closes what it
// inherited. TASKS per worker (default 4): make bench's workload.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

class ProcessPool {
public:
	ProcessPool(int n, bool fixed)
	{
		for (int i = 0; i < n; i++) {
			int p[2];

			if (pipe(p) < 0)
				std::exit(1);
			pid_t pid = fork();
			if (pid < 0)
				std::exit(1);
			if (pid == 0) {
				dup2(p[0], 0);
				close(p[0]);
				close(p[1]);
				if (fixed)
					for (int fd : writers_)
						close(fd);
				work();
			}
			close(p[0]);
			writers_.push_back(p[1]);
			workers_.push_back(pid);
		}
	}

	void submit(long task)
	{
		int fd = writers_[next_++ % writers_.size()];
		int t = (int)task;

		if (write(fd, &t, sizeof(t)) != sizeof(t))
			std::perror("write");
	}

	~ProcessPool()
	{
		for (size_t i = 0; i < writers_.size(); i++) {
			close(writers_[i]);
			waitpid(workers_[i], nullptr, 0);
		}
	}

private:
	[[noreturn]] static void work()
	{
		int task;
		long sum = 0;

		while (read(0, &task, sizeof(task)) == sizeof(task))
			sum += task;
		_exit(sum >= 0 ? 0 : 1);
	}

	std::vector<int> writers_;
	std::vector<pid_t> workers_;
	size_t next_ = 0;
};

int main(int argc, char **argv)
{
	int n = argc > 1 ? std::atoi(argv[1]) : 4;
	bool fixed = argc > 2 && std::string(argv[2]) == "fixed";
	long per = argc > 3 ? std::atol(argv[3]) : 4;
	{
		ProcessPool pool(n, fixed);

		for (long t = 0; t < per * n; t++)
			pool.submit(t);
	}
	std::puts("done");
	return 0;
}
