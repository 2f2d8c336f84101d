// Three 50 ms sleeps, timed on MONOTONIC; then REALTIME and a few random bytes.
// Under a virtual kernel with a seed, every byte of this output is determined.
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
  long long start = ns(CLOCK_MONOTONIC);
  printf("start realtime %lld monotonic %lld\n", ns(CLOCK_REALTIME), start);
  for (int i = 0; i < 3; i++) {
    long long a = ns(CLOCK_MONOTONIC);
    struct timespec t = {0, 50000000L};
    nanosleep(&t, NULL);
    printf("sleep %d took %lld\n", i, ns(CLOCK_MONOTONIC) - a);
  }
  printf("elapsed %lld\n", ns(CLOCK_MONOTONIC) - start);
  unsigned char buf[16];
  getentropy(buf, sizeof buf);
  printf("random ");
  for (unsigned i = 0; i < sizeof buf; i++) printf("%02x", buf[i]);
  printf("\nend realtime %lld\n", ns(CLOCK_REALTIME));
  return 0;
}
