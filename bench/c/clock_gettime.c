/* The C row: clock_gettime(CLOCK_MONOTONIC) through the real vDSO, ns per call. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000000;
  struct timespec a, b, t;
  long long sink = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    sink += t.tv_nsec;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
  printf("%.3f %lld\n", ns / n, sink & 1);
  return 0;
}
