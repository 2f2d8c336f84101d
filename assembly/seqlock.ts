/**
 * Reader side of the vDSO seqlock (include/vdso/helpers.h). `seq` is read with
 * `atomic.load`: wasm atomics are sequentially consistent, which covers the
 * kernel's `smp_rmb()` on both sides of the data loads. The data itself is read
 * with plain loads; a torn value is caught by the retry check.
 */
import { vdso_clock, vdso_clock_mode } from "./layout";

/**
 * The kernel's writer cannot die holding the lock (it runs with interrupts
 * off); ours can be preempted, or die with its worker. After this many spins
 * (~0.1-0.3 s here, far longer than any preemption) a reader gives up and
 * takes the syscall.
 */
export const SPIN_LIMIT: u32 = 1 << 27;
/** `read_begin_timens` found the time-namespace page (odd seq, mode TIMENS). */
export const SEQ_TIMENS: i64 = -1;
/** `seq` stayed odd for SPIN_LIMIT spins. */
export const SEQ_STUCK: i64 = -2;

// The torn-read harness's negative control is built with `--use VDSO_NO_SEQLOCK=1`:
// readers then neither wait for an even seq nor retry. Production builds never define it.

/**
 * Waits for an even `seq` and returns it; odd seq on a namespace page returns
 * SEQ_TIMENS. The even case is one load and a test; the wait loop sits behind
 * that branch (Binaryen still inlines it, but the engine's hot path no longer
 * runs through a loop header with its stack check on every read).
 */
@inline
export function read_begin_timens(vc: usize): i64 {
  const seq = atomic.load<u32>(vc + vdso_clock.seq);
  if (seq & 1) return wait_even(vc, true);
  return <i64>seq;
}

/** `vdso_read_begin`: waits for an even `seq` (no namespace escape). */
@inline
export function read_begin(vc: usize): i64 {
  const seq = atomic.load<u32>(vc + vdso_clock.seq);
  if (seq & 1) return wait_even(vc, false);
  return <i64>seq;
}

/** The slow half of read_begin: spin while `seq` is odd. */
function wait_even(vc: usize, timens: bool): i64 {
  let spins: u32 = 0;
  let seq: u32;
  while ((seq = atomic.load<u32>(vc + vdso_clock.seq)) & 1) {
    if (isDefined(VDSO_NO_SEQLOCK)) break;
    // Only an odd seq is checked for TIMENS, so ordinary readers pay nothing.
    if (timens && load<i32>(vc + vdso_clock.clock_mode) == vdso_clock_mode.TIMENS) return SEQ_TIMENS;
    if (++spins > SPIN_LIMIT) return SEQ_STUCK;
  }
  return <i64>seq;
}

/** `vdso_read_retry`: true if a writer ran since `read_begin` returned `seq`. */
@inline
export function read_retry(vc: usize, seq: i64): bool {
  if (isDefined(VDSO_NO_SEQLOCK)) return false;
  return <i64>atomic.load<u32>(vc + vdso_clock.seq) != seq;
}
