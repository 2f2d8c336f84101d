// Random bytes as a guest gets them: getentropy() (wasi-libc has no
// getrandom(); getentropy is its wrapper of random_get) and random_get itself.
#include <stdio.h>
#include <unistd.h>
#include <wasi/api.h>

static void hex(const char *what, const unsigned char *b, int n) {
  printf("%s ", what);
  for (int i = 0; i < n; i++) printf("%02x", b[i]);
  printf("\n");
}

int main(void) {
  unsigned char a[32], b[300];
  int e = getentropy(a, sizeof a);
  printf("getentropy ret %d\n", e);
  hex("getentropy", a, sizeof a);
  __wasi_errno_t r = __wasi_random_get(b, sizeof b);
  printf("random_get ret %d\n", r);
  hex("random_get", b, sizeof b);
  return 0;
}
