/**
 * The read path inlined into a caller's loop, as an AssemblyScript program
 * that compiles `assembly/` in gets it (bench only, never shipped): no call,
 * and the clock family test done once per read by a predictable branch.
 */
import { clock_gettime_data } from "./gettimeofday";
import { slot, vd_time } from "./view";

export { bind, set_slot } from "./view";

/** `n` reads of `clock` with the read path inlined; the last nsec, or -1 if one fell back. */
export function inline_loop(clock: i32, n: i32): i64 {
  const ts = slot;
  const vd = vd_time;
  for (let i = 0; i < n; i++) if (!clock_gettime_data(vd, clock, ts)) return -1;
  return load<i64>(ts, 8);
}
