// Mixed polls: a clock timeout with an fd (poll() makes one clock and one fd
// subscription). argv[1]: a file under a preopened dir (always readable);
// stdin is whatever the runtime gives (a pipe with or without data).
// Each line: "<what> ret=<n> errno=<e> revents=<hex> elapsed=<ns, MONOTONIC>".
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void one(const char *what, int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLRDNORM, 0};
  long long a = ns();
  int ret = poll(&p, 1, timeout_ms);
  int err = ret < 0 ? errno : 0;
  printf("%s ret=%d errno=%d revents=%x elapsed=%lld\n", what, ret, err, p.revents, ns() - a);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      perror("open");
      return 1;
    }
    one("file", fd, 1000);
  }
  one("stdin", 0, 30);
  long long a = ns();
  int ret = poll(NULL, 0, 30); // a clock alone
  printf("none ret=%d elapsed=%lld\n", ret, ns() - a);
  return 0;
}
