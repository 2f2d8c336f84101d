/**
 * An AssemblyScript program that reads time in its own loop. The vDSO reader
 * is compiled in from "wasm-vdso/assembly/lib": `now_ns` inlines the whole
 * read (seqlock, counter word, multiply-add-shift) into `loop`, with no call
 * and no host involved. The host (`instantiateProgram`) gives it the store's
 * memory, binds it to the kernel's pages and gives it a reader slot.
 */
import { CLOCK_MONOTONIC, clock_gettime, now_ns, TIMESPEC_SIZE } from "wasm-vdso/assembly/lib";

// The host binds this instance to a store and gives it a slot through these.
export { bind, set_slot } from "wasm-vdso/assembly/lib";

/**
 * A timespec in this program's static data. Its memoryBase is USER_START, so
 * its static data, its heap and its buffers are all user memory, where the
 * reader writes results; anything below USER_START gets -EFAULT.
 */
export const TS = memory.data(TIMESPEC_SIZE, 8);

/** `n` readings of `clock`, each inlined here: the last in ns, or a negated errno. */
export function loop(clock: i32, n: i32): i64 {
  let t: i64 = 0;
  for (let i = 0; i < n; i++) {
    t = now_ns(clock);
    if (t < 0) break;
  }
  return t;
}

/** How many MONOTONIC nanoseconds `n` readings took. */
export function elapsed(n: i32): i64 {
  const start = now_ns(CLOCK_MONOTONIC);
  loop(CLOCK_MONOTONIC, n);
  return now_ns(CLOCK_MONOTONIC) - start;
}

/** `clock_gettime(clock, ts)`: 0 with the timespec at `ts`, or a negated errno. */
export function gettime(clock: i32, ts: usize): i32 {
  return clock_gettime(clock, ts);
}
