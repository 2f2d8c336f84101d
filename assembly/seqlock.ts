/**
 * Reader side of the vDSO seqlock (include/vdso/helpers.h). Every load of a
 * read window (seq, the fields it guards, the counter word) is a wasm atomic
 * load: on x86-64 a plain `mov` (TSO keeps loads in order), on ARM64 `LDAR`.
 * `LDAR` orders only what comes after it: a re-read of seq lets plain data
 * loads before it be satisfied after it, data loads that are `LDAR` too stay
 * before it (LDAR->LDAR: vdso_read_retry's `smp_rmb()`). Not a fence: AS
 * 0.28's `atomic.fence` does not survive Binaryen, and on x86-64 it is
 * `mfence` (a read 13 -> 53 ns; atomic data loads cost x1.16). Held in the
 * compiled modules by test/ordering.test.ts.
 */
import { reader_slot, vdso_clock, vdso_clock_mode } from "./layout";
import { slot } from "./view";

/**
 * The kernel's writer cannot die holding the lock (it runs with interrupts
 * off); ours can be preempted, paused by a GC, or die with its worker. A
 * reader waits at most this many spins for an even seq: ~2 ns a spin here, so
 * ~1 ms. Our writer's whole tick (the core and eight aux clocks published)
 * measured 15 us at the median, 78 us at p99 and 0.45 ms at p99.9 over 2x10^5
 * ticks; one clock's write window is a ninth of that. Past the bound the
 * writer is paused or dead, and the syscall (the last consistent state,
 * carried forward) answers instead.
 */
export const SPIN_LIMIT: u32 = 1 << 19;
/** The same bound for loops whose every spin is a host call (pvclock, Hyper-V): ~0.1 ms. */
export const CALL_SPIN_LIMIT: u32 = 1 << 10;
/** `read_begin_timens` found the time-namespace page (odd seq, mode TIMENS). */
export const SEQ_TIMENS: i64 = -1;
/** `seq` stayed odd for SPIN_LIMIT spins, or is one this reader already gave up on. */
export const SEQ_STUCK: i64 = -2;

/**
 * The seq words and values this reader gave up on, one entry per word, in its
 * own slot (static data would be shared by every instance on the memory): the
 * last STUCK_WORDS words, replaced round robin. Until a word changes, a read
 * of it takes the fallback at once instead of waiting again, so a stuck
 * writer costs each reader one wait per stuck word (a writer that died inside
 * update_vsyscall leaves clock_data[0] and [1] both odd), not one per read.
 */
let stuck_next: u32 = 0;

/** Counts into this reader's slot (when it has one), for the host to read. */
function count(field: usize): void {
  if (slot != 0) store<u32>(slot + field, load<u32>(slot + field) + 1);
}

/** The entry remembering word `at`, or 0 (also without a slot: nothing is remembered then). */
function stuck_entry(at: usize): usize {
  if (slot == 0) return 0;
  for (let i: usize = 0; i < <usize>reader_slot.STUCK_WORDS; i++) {
    const e = slot + reader_slot.stuck + i * 8;
    if (load<u32>(e) == <u32>at) return e;
  }
  return 0;
}

/**
 * Called after a bounded wait on the u32 at `at` failed (or on a value known
 * stuck): remembers it and returns SEQ_STUCK.
 */
export function give_up(at: usize, seq: u32): i64 {
  if (slot == 0) return SEQ_STUCK;
  let e = stuck_entry(at);
  if (e == 0 || load<u32>(e, 4) != seq) {
    if (e == 0) {
      e = slot + reader_slot.stuck + stuck_next * 8;
      stuck_next = (stuck_next + 1) % <u32>reader_slot.STUCK_WORDS;
    }
    store<u32>(e, <u32>at);
    store<u32>(e, seq, 4);
    count(reader_slot.give_ups);
  }
  return SEQ_STUCK;
}

/** True if the odd value `seq` at `at` is one this reader gave up on (only ever asked on the slow path). */
export function known_stuck(at: usize, seq: u32): bool {
  const e = stuck_entry(at);
  return e != 0 && load<u32>(e, 4) == seq;
}

// The torn-read harness's negative control is built with `--use VDSO_NO_SEQLOCK=1`:
// readers then neither wait for an even seq nor retry. Production builds never define it.

/**
 * A load ordered before every later load (`smp_load_acquire`; a wasm atomic
 * load is sequentially consistent): each data load of a seqlock window, so
 * none passes the re-read of seq, and getrandom's is_ready, so the generation
 * load does not pass it. `at` must be aligned to sizeof<T>() (an atomic load
 * traps otherwise): every field read so is, in layout.ts. The ordering test's
 * negative control is built with `--use VDSO_PLAIN_DATA=1`: plain loads here.
 */
@inline
export function load_acquire<T>(at: usize): T {
  if (isDefined(VDSO_PLAIN_DATA)) return load<T>(at);
  return atomic.load<T>(at);
}

/**
 * `seq` and `clock_mode` (adjacent u32s, 8-aligned: a vdso_clock starts on 8)
 * in ONE i64 atomic load at seq: seq in the low half (little-endian), the mode
 * in the high half. It is the window's opening load, still an acquire (LDAR on
 * ARM64, a plain mov on x86-64), so every later load stays after it; one
 * atomic load instead of two (each costs V8 an alignment check on x86-64).
 */
@inline
export function load_seq_mode(vc: usize): u64 {
  return atomic.load<u64>(vc + vdso_clock.seq);
}

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

/**
 * The slow half of read_begin: spin while `seq` is odd, at most SPIN_LIMIT
 * times. Only an odd seq is checked for TIMENS, so ordinary readers pay
 * nothing: a namespace page (timens) redirects; a page that should hold real
 * data but says TIMENS is a closed store, given up on at once.
 */
function wait_even(vc: usize, timens: bool): i64 {
  const at = vc + vdso_clock.seq;
  let seq = atomic.load<u32>(at);
  if (!(seq & 1)) return <i64>seq;
  if (!isDefined(VDSO_NO_SEQLOCK)) {
    if (load_acquire<i32>(vc + vdso_clock.clock_mode) == vdso_clock_mode.TIMENS) return timens ? SEQ_TIMENS : give_up(at, seq);
    if (known_stuck(at, seq)) return SEQ_STUCK;
    count(reader_slot.waits);
  }
  // The bound is on one odd value: a writer that moves on (a busy one) is not stuck.
  let spins: u32 = 0;
  let last = seq;
  while ((seq = atomic.load<u32>(at)) & 1) {
    if (isDefined(VDSO_NO_SEQLOCK)) break;
    if (seq != last) {
      last = seq;
      spins = 0;
    } else if (++spins > SPIN_LIMIT) {
      return give_up(at, seq);
    }
  }
  return <i64>seq;
}

/**
 * `vdso_read_retry` for a window opened by load_seq_mode: the re-read is the
 * same 8-byte atomic load (seq is its low half), so V8 checks one alignment
 * for both loads instead of one each.
 */
@inline
export function read_retry_seq_mode(vc: usize, seq: u32): bool {
  if (isDefined(VDSO_NO_SEQLOCK)) return false;
  return <u32>load_seq_mode(vc) != seq;
}

/** `vdso_read_retry`: true if a writer ran since `read_begin` returned `seq`. */
@inline
export function read_retry(vc: usize, seq: i64): bool {
  if (isDefined(VDSO_NO_SEQLOCK)) return false;
  return <i64>atomic.load<u32>(vc + vdso_clock.seq) != seq;
}
