/**
 * Bench-only programs over the reader's memory (never shipped): the read path
 * inlined into a caller's loop, as an AssemblyScript program that compiles
 * `assembly/` in gets it, and the floor under any reader.
 */
import { CLOCK_MONOTONIC, CS_HRES_COARSE, vdso_arch_data, vdso_clock, vdso_time_data, vdso_timestamp } from "./layout";
import { clock_gettime, clock_gettime_data, mult_shift } from "./gettimeofday";
import { load_acquire } from "./seqlock";
import { slot, vd_arch, vd_time } from "./view";

export { bind, set_slot } from "./view";

/** `n` calls of the `clock_gettime` export into the slot, as testing's `read_loop` (so one build has all three rows). */
export function called_loop(clock: i32, n: i32): i64 {
  const ts = slot;
  let acc: i64 = 0;
  for (let i = 0; i < n; i++) {
    const ret = clock_gettime(clock, ts);
    if (ret != 0) return ret;
    acc = load<i64>(ts, 8);
  }
  return acc;
}

/** `n` reads of `clock` with the read path inlined; the last nsec, or -1 if one fell back. */
export function inline_loop(clock: i32, n: i32): i64 {
  const ts = slot;
  const vd = vd_time;
  for (let i = 0; i < n; i++) if (!clock_gettime_data(vd, clock, ts)) return -1;
  return load<i64>(ts, 8);
}

/**
 * One bare seqlock read of MONOTONIC (seq, counter word, the
 * multiply-add-shift, seq again, two stores) with none of the checks a real
 * reader needs (odd seq, counter mode, max_cycles, carry, pointer); false if
 * seq moved. Its loads are those of a correct read (atomic, ordered before
 * the re-read of seq).
 */
@inline
function bare_once(vc: usize, bt: usize, counter: usize, ts: usize): bool {
  const seq = atomic.load<u32>(vc + vdso_clock.seq);
  const delta = atomic.load<u64>(counter) - load_acquire<u64>(vc + vdso_clock.cycle_last);
  const ms = mult_shift(vc);
  const ns = (delta * (ms & 0xffffffff) + load_acquire<u64>(bt + vdso_timestamp.nsec)) >> (ms >> 32);
  const sec = load_acquire<u64>(bt + vdso_timestamp.sec);
  if (atomic.load<u32>(vc + vdso_clock.seq) != seq) return false;
  store<u64>(ts, sec);
  store<u64>(ts, ns, 8);
  return true;
}

/**
 * The floor: `n` bare reads, inlined, in the real read's shape (one straight
 * pass; the retry loop only behind a moved seq), so it shows what any correct
 * reader here costs at least.
 */
export function bare_loop(n: i32): i64 {
  const ts = slot;
  const vc = vd_time + vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE;
  const bt = vc + vdso_clock.basetime + CLOCK_MONOTONIC * vdso_timestamp.SIZE;
  const counter = vd_arch + vdso_arch_data.counter;
  for (let i = 0; i < n; i++) {
    if (!bare_once(vc, bt, counter, ts)) while (!bare_once(vc, bt, counter, ts));
  }
  return load<i64>(ts, 8);
}
