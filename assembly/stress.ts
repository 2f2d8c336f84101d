/**
 * Torn-read harness (a separate module, never shipped): reads CLOCK_MONOTONIC
 * through the real read path in a loop and checks each result against the
 * invariant the harness's writer keeps. For update v: sec = v and
 * nsec = (v * 7919) mod 1e6 + (v mod 1000), the last term coming from
 * cycle_last, so mixing fields of two updates breaks it.
 */
import { clock_gettime } from "./gettimeofday";
import { CLOCK_MONOTONIC } from "./layout";
import { slot } from "./view";

export { bind, set_slot } from "./view";

let fallbacks: i32 = 0;

/** `n` checked reads; returns how many were torn. */
export function check_reads(n: i32): i32 {
  const ts = slot;
  let torn = 0;
  for (let i = 0; i < n; i++) {
    if (clock_gettime(CLOCK_MONOTONIC, ts) != 0) {
      fallbacks++;
      continue;
    }
    const v = load<u64>(ts);
    const nsec = load<u64>(ts, 8);
    if (nsec != (v * 7919) % 1000000 + (v % 1000)) torn++;
  }
  return torn;
}

/** Reads that went to the syscall instead (a live writer never causes one). */
export function fallback_count(): i32 {
  return fallbacks;
}
