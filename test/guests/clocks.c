// What a guest sees of the clocks: clock_getres, and every kind of sleep.
// Each sleep line: "<kind> deadline=<ns> woke=<ns> ret=<r>", deadline and woke
// on the clock the sleep is measured on (MONOTONIC for relative sleeps).
// argv[1], if given, runs one kind only ("abs-mono" is the one node:wasi hangs on).
#include <stdio.h>
#include <string.h>
#include <time.h>

static long long ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static struct timespec ts(long long n) {
  struct timespec t = {n / 1000000000LL, n % 1000000000LL};
  return t;
}

static const long long SLEEP = 20000000LL; // 20 ms

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
  struct timespec r;
  if (!only) {
    clock_getres(CLOCK_MONOTONIC, &r);
    printf("res MONOTONIC %lld\n", (long long)r.tv_sec * 1000000000LL + r.tv_nsec);
    clock_getres(CLOCK_REALTIME, &r);
    printf("res REALTIME %lld\n", (long long)r.tv_sec * 1000000000LL + r.tv_nsec);
  }
  if (!only || !strcmp(only, "nanosleep")) {
    long long d = ns(CLOCK_MONOTONIC) + SLEEP;
    struct timespec t = ts(SLEEP);
    int ret = nanosleep(&t, NULL);
    printf("nanosleep deadline=%lld woke=%lld ret=%d\n", d, ns(CLOCK_MONOTONIC), ret);
  }
  if (!only || !strcmp(only, "rel-mono")) {
    long long d = ns(CLOCK_MONOTONIC) + SLEEP;
    struct timespec t = ts(SLEEP);
    int ret = clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
    printf("rel-mono deadline=%lld woke=%lld ret=%d\n", d, ns(CLOCK_MONOTONIC), ret);
  }
  if (!only || !strcmp(only, "abs-mono")) {
    long long d = ns(CLOCK_MONOTONIC) + SLEEP;
    struct timespec t = ts(d);
    int ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    printf("abs-mono deadline=%lld woke=%lld ret=%d\n", d, ns(CLOCK_MONOTONIC), ret);
  }
  if (!only || !strcmp(only, "abs-real")) {
    long long d = ns(CLOCK_REALTIME) + SLEEP;
    struct timespec t = ts(d);
    int ret = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL);
    printf("abs-real deadline=%lld woke=%lld ret=%d\n", d, ns(CLOCK_REALTIME), ret);
  }
  return 0;
}
