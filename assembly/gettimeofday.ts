/**
 * The vDSO read path (lib/vdso/gettimeofday.c with the x86 hooks), over the
 * pages of the bound view. Helpers return false to mean "take the syscall";
 * only the entry points call the fallback. Every field read between a seq
 * load and its re-read is read with load_acquire (seqlock.ts says why).
 *
 * Longer than ~350 lines on purpose: it is lib/vdso/gettimeofday.c, one file
 * there too (every clock family, both namespace paths, the value exports that
 * read into locals); splitting it would split the inlined hot path.
 */
import {
  CLOCK_AUX,
  CLOCK_AUX_LAST,
  CLOCK_REALTIME,
  CS_HRES_COARSE,
  CS_RAW,
  EFAULT,
  EINVAL,
  LOW_RES_NSEC,
  NO_PAGE,
  NSEC_PER_SEC,
  NSEC_PER_USEC,
  reader_slot,
  TIMESPEC_SIZE,
  TIMEVAL_SIZE,
  TIMEZONE_SIZE,
  VDSO_AUX,
  VDSO_BASE_AUX,
  VDSO_COARSE,
  VDSO_HRES,
  VDSO_RAW,
  vdso_clock,
  vdso_clock_mode,
  vdso_time_data,
  vdso_timestamp,
} from "./layout";
import { div_rem, iter_div_u64_rem, mul_u64_u32_add_u64_shr } from "./math";
import { known_stuck, load_acquire, load_seq_mode, read_begin, read_retry_seq_mode, read_begin_timens, read_retry, SEQ_STUCK, SEQ_TIMENS } from "./seqlock";
import { counter_in_memory, counter_word, cycles_ok, get_hw_counter, rdtsc, S64_MAX } from "./counter";
import { slot, user_ok, vd_real, vd_time } from "./view";

/** The syscalls, answered by the host kernel. They return 0 or a negated errno. */
@external("vdso", "sys_clock_gettime")
declare function sys_clock_gettime(clock: i32, ts: usize): i32;
@external("vdso", "sys_clock_getres")
declare function sys_clock_getres(clock: i32, res: usize): i32;
@external("vdso", "sys_gettimeofday")
declare function sys_gettimeofday(tv: usize, tz: usize): i32;

const BIT62: u64 = 1 << 62;

/** x86 `vdso_calc_ns`, exported as is for the property test. */
export function vdso_calc_ns(vc: usize, cycles: u64, base: u64): u64 {
  return calc_ns(vc, cycles, base);
}

/** x86 `vdso_calc_ns`: shifted nanoseconds since `cycle_last`, added to `base`, shifted once. */
@inline
function calc_ns(vc: usize, cycles: u64, base: u64): u64 {
  const delta = cycles - load_acquire<u64>(vc + vdso_clock.cycle_last);
  const ms = mult_shift(vc);
  const mult = <u32>ms;
  const shift = <u32>(ms >> 32);
  if (delta > load_acquire<u64>(vc + vdso_clock.max_cycles)) {
    // Bit 62 set: the counter is behind cycle_last; clamp to the time of cycle_last.
    if (delta & BIT62) return base >> shift;
    return mul_u64_u32_add_u64_shr(delta & S64_MAX, mult, base, shift);
  }
  return (delta * mult + base) >> shift;
}

/**
 * `mult` (low half) and `shift` (high half), adjacent u32s at an 8-aligned
 * offset, in one i64 atomic load: one ordered load, not two.
 */
@inline
export function mult_shift(vc: usize): u64 {
  return load_acquire<u64>(vc + vdso_clock.mult);
}

/**
 * `vdso_get_timestamp`, in two halves so the results stay in locals (no
 * globals, no memory): the counter (U64_MAX-like when invalid, see
 * cycles_ok), then the nanoseconds of `basetime[idx]` at that counter.
 */
@inline
function read_counter(vc: usize): u64 {
  // The host call inline: its import is then the read's only call (no get_hw_counter_call frame).
  const mode = load_acquire<i32>(vc + vdso_clock.clock_mode);
  if (mode == vdso_clock_mode.TSC) return rdtsc() & S64_MAX;
  return get_hw_counter(mode);
}

@inline
function timestamp_ns(vc: usize, idx: i32, cycles: u64): u64 {
  return calc_ns(vc, cycles, load_acquire<u64>(vc + vdso_clock.basetime + idx * vdso_timestamp.SIZE + vdso_timestamp.nsec));
}

@inline
function timestamp_sec(vc: usize, idx: i32): u64 {
  return load_acquire<u64>(vc + vdso_clock.basetime + idx * vdso_timestamp.SIZE + vdso_timestamp.sec);
}

/** `vdso_set_timespec`. The division runs after the seqlock loop, so a torn read cannot make it long. */
@inline
function set_timespec(ts: usize, sec: u64, ns: u64): void {
  if (ns < <u64>NSEC_PER_SEC) {
    store<u64>(ts, sec);
    store<u64>(ts, ns, 8);
    return;
  }
  const q = iter_div_u64_rem(ns, NSEC_PER_SEC);
  store<u64>(ts, sec + <u64>q);
  store<u64>(ts, div_rem, 8);
}

/** The namespace offset `offset[clock]` of namespace page clock `vcns`. */
@inline
function ns_offset(vcns: usize, clock: i32): usize {
  return vcns + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
}

/** `do_hres_timens`: read the real page, then add the namespace offset. */
function do_hres_timens(vdns: usize, vcns: usize, clock: i32, ts: usize): bool {
  if (vd_real == <usize>NO_PAGE) return false;
  const vc = vd_real + (vcns - vdns);
  const offs = ns_offset(vcns, clock);
  let seq: i64;
  let sec: u64, ns: u64;
  do {
    if ((seq = read_begin(vc)) == SEQ_STUCK) return false;
    const cycles = read_counter(vc);
    if (!cycles_ok(cycles)) return false;
    ns = timestamp_ns(vc, clock, cycles);
    sec = timestamp_sec(vc, clock);
  } while (!isDefined(VDSO_NO_RETRY_HRES_TIMENS) && read_retry(vc, seq));
  set_timespec(ts, sec + load<u64>(offs + vdso_timestamp.sec), ns + load<u64>(offs + vdso_timestamp.nsec));
  return true;
}

/** `do_hres`: REALTIME, MONOTONIC, BOOTTIME, TAI from clock_data[0]; MONOTONIC_RAW from [1]. */
@inline
function do_hres(vd: usize, vc: usize, clock: i32, ts: usize): bool {
  let seq: i64;
  let sec: u64, ns: u64;
  do {
    seq = read_begin_timens(vc);
    if (seq == SEQ_TIMENS) return do_hres_timens(vd, vc, clock, ts);
    if (seq == SEQ_STUCK) return false;
    const cycles = read_counter(vc);
    if (!cycles_ok(cycles)) return false;
    ns = timestamp_ns(vc, clock, cycles);
    sec = timestamp_sec(vc, clock);
  } while (!isDefined(VDSO_NO_RETRY_HRES) && read_retry(vc, seq));
  set_timespec(ts, sec, ns);
  return true;
}

/** `do_coarse_timens`: the real page's coarse time plus the namespace offset. */
function do_coarse_timens(vdns: usize, vcns: usize, clock: i32, ts: usize): bool {
  if (vd_real == <usize>NO_PAGE) return false;
  const vc = vd_real + (vcns - vdns);
  const bt = vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
  let seq: i64;
  let sec: u64, ns: u64;
  do {
    if ((seq = read_begin(vc)) == SEQ_STUCK) return false;
    if (seq == 0) return false; // never published: see do_coarse
    sec = load_acquire<u64>(bt + vdso_timestamp.sec);
    ns = load_acquire<u64>(bt + vdso_timestamp.nsec);
  } while (!isDefined(VDSO_NO_RETRY_COARSE_TIMENS) && read_retry(vc, seq));
  const offs = ns_offset(vcns, clock);
  set_timespec(ts, sec + load<u64>(offs + vdso_timestamp.sec), ns + load<u64>(offs + vdso_timestamp.nsec));
  return true;
}

/**
 * `do_coarse`: the time of the last tick, copied as stored (no counter, no
 * normalisation). seq 0 is a page no writer has published yet (all zero),
 * which would read as time 0: the syscall answers instead. seq wraps back to
 * 0 only after 2^31 updates, and then costs one syscall until the next update.
 */
@inline
function do_coarse(vd: usize, vc: usize, clock: i32, ts: usize): bool {
  const bt = vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
  let seq: i64;
  let sec: u64, ns: u64;
  do {
    seq = read_begin_timens(vc);
    if (seq == SEQ_TIMENS) return do_coarse_timens(vd, vc, clock, ts);
    if (seq == SEQ_STUCK || seq == 0) return false;
    sec = load_acquire<u64>(bt + vdso_timestamp.sec);
    ns = load_acquire<u64>(bt + vdso_timestamp.nsec);
  } while (!isDefined(VDSO_NO_RETRY_COARSE) && read_retry(vc, seq));
  store<u64>(ts, sec);
  store<u64>(ts, ns, 8);
  return true;
}

/** `do_aux`: an auxiliary clock; a namespace page redirects to the real page, with no offset. */
@inline
function do_aux(vd: usize, clock: i32, ts: usize): bool {
  const idx = clock - CLOCK_AUX;
  let vc = vd + vdso_time_data.aux_clock_data + idx * vdso_clock.SIZE;
  let seq: i64;
  let sec: u64, ns: u64;
  do {
    seq = read_begin_timens(vc);
    if (seq == SEQ_TIMENS) {
      // Redirect once; a real page that claims to be a namespace page is broken.
      if (vd_real == <usize>NO_PAGE || vd == vd_real) return false;
      vd = vd_real;
      vc = vd + vdso_time_data.aux_clock_data + idx * vdso_clock.SIZE;
      seq = read_begin(vc);
    }
    if (seq == SEQ_STUCK) return false;
    // A disabled aux clock publishes mode NONE; the syscall says ENODEV.
    if (load_acquire<i32>(vc + vdso_clock.clock_mode) == vdso_clock_mode.NONE) return false;
    const cycles = read_counter(vc);
    if (!cycles_ok(cycles)) return false;
    ns = timestamp_ns(vc, VDSO_BASE_AUX, cycles);
    sec = timestamp_sec(vc, VDSO_BASE_AUX);
  } while (!isDefined(VDSO_NO_RETRY_AUX) && read_retry(vc, seq));
  set_timespec(ts, sec, ns);
  return true;
}

/**
 * `__cvdso_clock_gettime_data`: false = take the syscall. The common read
 * (HRES or RAW, even seq, the in-memory counter, a short delta, no carry) is
 * inlined as straight code with no call and no loop; anything else, a retry
 * included, reads again through clock_gettime_slow, the whole algorithm, out
 * of line. A call or a loop inlined into the caller's loop costs every read:
 * the engine spills the values live across the call, and checks the stack at
 * every loop header (measured: README, Performance). `host_call` (the
 * export only): a host-call clock (mode TSC) that missed goes straight to
 * hres_slow, not through clock_gettime_slow (README, "Where the read path's
 * time goes").
 */
@inline
export function clock_gettime_data(vd: usize, clock: i32, ts: usize, host_call: bool = false): bool {
  // ABLATE_*: bench/readpath.ts builds each with one piece removed (bench only, never shipped).
  if (isDefined(ABLATE_DISPATCH)) {
    if (hres_once(vd + vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE, clock, ts)) return true;
    return isDefined(ABLATE_SLOW) ? false : clock_gettime_slow(vd, clock, ts);
  }
  // Negative ids are huge as u32, so one comparison rejects both.
  if (<u32>clock <= <u32>CLOCK_AUX_LAST) {
    const msk = 1 << clock;
    const vc = vd + vdso_time_data.clock_data;
    if (msk & VDSO_HRES) {
      const vh = vc + CS_HRES_COARSE * vdso_clock.SIZE;
      if (hres_once(vh, clock, ts)) return true;
      if (host_call && is_host_call(vh)) return hres_slow(vd, vh, clock, ts);
    } else if (msk & VDSO_RAW) {
      const vr = vc + CS_RAW * vdso_clock.SIZE;
      if (hres_once(vr, clock, ts)) return true;
      if (host_call && is_host_call(vr)) return hres_slow(vd, vr, clock, ts);
    }
  }
  return isDefined(ABLATE_SLOW) ? false : clock_gettime_slow(vd, clock, ts);
}

/**
 * do_hres in one pass, or false (nothing written) if it would wait, call,
 * loop or carry: an odd seq (a writer, or a namespace page), a counter that
 * is not the in-memory word, a delta past max_cycles, a retry, ns past a
 * second. Then clock_gettime_slow reads again, exactly as the kernel does.
 */
@inline
function hres_once(vc: usize, clock: i32, ts: usize): bool {
  const sm = load_seq_mode(vc);
  const seq = <u32>sm;
  if (!isDefined(ABLATE_ODD) && seq & 1) return false;
  if (!isDefined(ABLATE_MODE) && !counter_in_memory(<i32>(sm >> 32))) return false;
  const delta = counter_word() - load_acquire<u64>(vc + vdso_clock.cycle_last);
  if (!isDefined(ABLATE_MAX_CYCLES) && delta > load_acquire<u64>(vc + vdso_clock.max_cycles)) return false;
  const bt = vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
  const ms = mult_shift(vc);
  const ns = (delta * (ms & 0xffffffff) + load_acquire<u64>(bt + vdso_timestamp.nsec)) >> (ms >> 32);
  const sec = load_acquire<u64>(bt + vdso_timestamp.sec);
  if (!isDefined(VDSO_NO_RETRY_HRES) && read_retry_seq_mode(vc, seq)) return false;
  if (!isDefined(ABLATE_CARRY) && ns >= <u64>NSEC_PER_SEC) return false;
  store<u64>(ts, sec);
  store<u64>(ts, ns, 8);
  return true;
}

/** True if clock `vc` reads the host's counter (mode TSC): the fast pass always misses it. */
@inline
function is_host_call(vc: usize): bool {
  return load_acquire<i32>(vc + vdso_clock.clock_mode) == vdso_clock_mode.TSC;
}

/**
 * do_hres out of line for a host-call clock the fast pass missed: a small
 * function whose only call is the counter import (read_counter inlines it),
 * not clock_gettime_slow's dispatch and big frame. Kept out of the export so
 * the export's other paths keep their shape (inlined, COARSE read 3 % slower).
 */
function hres_slow(vd: usize, vc: usize, clock: i32, ts: usize): bool {
  return do_hres(vd, vc, clock, ts);
}

/** `__cvdso_clock_gettime_common` in full: dispatch by clock family, every wait, retry and fallback. */
function clock_gettime_slow(vd: usize, clock: i32, ts: usize): bool {
  if (<u32>clock > <u32>CLOCK_AUX_LAST) return false;
  const msk = 1 << clock;
  const vc = vd + vdso_time_data.clock_data;
  if (msk & VDSO_HRES) return do_hres(vd, vc + CS_HRES_COARSE * vdso_clock.SIZE, clock, ts);
  if (msk & VDSO_COARSE) return do_coarse(vd, vc + CS_HRES_COARSE * vdso_clock.SIZE, clock, ts);
  if (msk & VDSO_RAW) return do_hres(vd, vc + CS_RAW * vdso_clock.SIZE, clock, ts);
  if (msk & VDSO_AUX) return do_aux(vd, clock, ts);
  return false;
}

/** `clock_gettime(clock, ts)`: 0, or the syscall's answer. */
export function clock_gettime(clock: i32, ts: usize): i32 {
  if (!isDefined(ABLATE_USER_OK) && !user_ok(ts, TIMESPEC_SIZE)) return -EFAULT;
  if (clock_gettime_data(vd_time, clock, ts, true)) return 0;
  return sys_clock_gettime(clock, ts);
}

/** The page to read time, tz and resolution from: the real one if page 0 is a namespace page. */
function real_page(vd: usize): usize {
  if (load_acquire<i32>(vd + vdso_clock.clock_mode) == vdso_clock_mode.TIMENS) return vd_real;
  return vd;
}

/**
 * True if page `vd` has no state to answer from: never published
 * (clock_data[0].seq still 0: the page is all zero, so resolution, tz and
 * seconds would read as 0; as in do_coarse, a seq that wrapped to 0 costs one
 * syscall until the next update), closed (a real page that says TIMENS), or
 * held by a writer this reader gave up on.
 */
function unusable(vd: usize): bool {
  const vc = vd + vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE;
  const seq = atomic.load<u32>(vc + vdso_clock.seq);
  if (seq == 0) return true;
  if (!(seq & 1)) return false;
  return load_acquire<i32>(vc + vdso_clock.clock_mode) == vdso_clock_mode.TIMENS || known_stuck(vc + vdso_clock.seq, seq);
}

/** `__cvdso_clock_getres_common`: resolution in ns, or -1 to take the syscall. */
export function clock_getres_data(vd: usize, clock: i32): i64 {
  if (<u32>clock > <u32>CLOCK_AUX_LAST) return -1;
  vd = real_page(vd);
  if (vd == <usize>NO_PAGE || unusable(vd)) return -1;
  const msk = 1 << clock;
  if (msk & (VDSO_HRES | VDSO_RAW)) return <i64>atomic.load<u32>(vd + vdso_time_data.hrtimer_res);
  if (msk & VDSO_COARSE) return LOW_RES_NSEC;
  if (msk & VDSO_AUX) return 1; // answered even where aux clocks are compiled out, as 6.17+ does
  return -1;
}

/** `clock_getres(clock, res)`; res may be NULL (0). */
export function clock_getres(clock: i32, res: usize): i32 {
  if (res != 0 && !user_ok(res, TIMESPEC_SIZE)) return -EFAULT;
  const ns = clock_getres_data(vd_time, clock);
  if (ns < 0) return sys_clock_getres(clock, res);
  if (res != 0) {
    store<u64>(res, 0);
    store<u64>(res, ns, 8);
  }
  return 0;
}

/** `gettimeofday(tv, tz)`; either may be NULL. tz is read without the seqlock, as in Linux. */
export function gettimeofday(tv: usize, tz: usize): i32 {
  if (tv != 0 && !user_ok(tv, TIMEVAL_SIZE)) return -EFAULT;
  if (tz != 0 && !user_ok(tz, TIMEZONE_SIZE)) return -EFAULT;
  const vd = vd_time;
  if (tv != 0) {
    const vc = vd + vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE;
    // timespec and timeval are both 16 bytes: read into tv, then turn ns into us in place.
    if (!do_hres(vd, vc, CLOCK_REALTIME, tv)) return sys_gettimeofday(tv, tz);
    store<u64>(tv, <u64>(<u32>load<u64>(tv, 8) / NSEC_PER_USEC), 8);
  }
  if (tz != 0) {
    const rd = real_page(vd);
    if (rd == <usize>NO_PAGE || unusable(rd)) return sys_gettimeofday(0, tz);
    store<i32>(tz, load<i32>(rd + vdso_time_data.tz_minuteswest));
    store<i32>(tz, load<i32>(rd + vdso_time_data.tz_dsttime), 4);
  }
  return 0;
}

/**
 * `time(t)`: the seconds of the last update, no seqlock, no counter: one
 * 64-bit atomic load (Linux's READ_ONCE), which the writer stores whole. With
 * no published page to read (none bound, a namespace page without its real
 * page, or seq 0), the seconds of `clock_gettime(CLOCK_REALTIME)` from the
 * syscall, made in this reader's slot; or its negated errno.
 */
export function time(t: usize): i64 {
  if (t != 0 && !user_ok(t, 8)) return -EFAULT;
  const vd = real_page(vd_time);
  let secs: u64;
  if (vd != <usize>NO_PAGE && !unusable(vd)) {
    secs = atomic.load<u64>(vd + vdso_time_data.clock_data + vdso_clock.basetime + CLOCK_REALTIME * vdso_timestamp.SIZE);
  } else {
    if (slot == 0) return -EFAULT; // no slot set: nowhere for the syscall's answer
    const ts = slot + reader_slot.result;
    const ret = sys_clock_gettime(CLOCK_REALTIME, ts);
    if (ret != 0) return ret;
    secs = load<u64>(ts);
  }
  if (t != 0) store<u64>(t, secs);
  return <i64>secs;
}

/**
 * hres_once for the value-returning exports, ending in one i64 (sec * 10^9 +
 * ns from locals: no timespec, so no carry to test), or -1 (nothing read) on
 * an odd seq, a counter that is not the in-memory word, a delta past
 * max_cycles or a retry. Then value_slow reads again with the full algorithm.
 */
@inline
function hres_value(vc: usize, clock: i32): i64 {
  const sm = load_seq_mode(vc);
  const seq = <u32>sm;
  if (seq & 1) return -1;
  if (!counter_in_memory(<i32>(sm >> 32))) return -1;
  const delta = counter_word() - load_acquire<u64>(vc + vdso_clock.cycle_last);
  if (delta > load_acquire<u64>(vc + vdso_clock.max_cycles)) return -1;
  const bt = vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
  const ms = mult_shift(vc);
  const ns = (delta * (ms & 0xffffffff) + load_acquire<u64>(bt + vdso_timestamp.nsec)) >> (ms >> 32);
  const sec = load_acquire<u64>(bt + vdso_timestamp.sec);
  if (!isDefined(VDSO_NO_RETRY_VALUE) && read_retry_seq_mode(vc, seq)) return -1;
  return <i64>(sec * <u64>NSEC_PER_SEC + ns);
}

/**
 * A reading as one i64 of nanoseconds in one straight pass (HRES or RAW), or
 * -1 to take value_slow. Inlined into the value exports, `now_ns` and WASI.
 */
@inline
export function fast_value(clock: i32): i64 {
  if (<u32>clock > <u32>CLOCK_AUX_LAST) return -1;
  const msk = 1 << clock;
  const vc = vd_time + vdso_time_data.clock_data;
  // Two inlined copies, not one behind a select: the select sat on the first
  // load's address and cost MONOTONIC ~6 % (measured from JS).
  if (msk & VDSO_HRES) return hres_value(vc + CS_HRES_COARSE * vdso_clock.SIZE, clock);
  if (msk & VDSO_RAW) return hres_value(vc + CS_RAW * vdso_clock.SIZE, clock);
  return -1;
}

/**
 * The value of `clock` by the full algorithm (every family, the bounded
 * waits, timens, the fallback), through a timespec in this reader's slot: ns,
 * or a negated errno. Out of line: the value exports call it only when the
 * fast pass missed, so nothing of it sits in their hot path.
 */
export function value_slow(clock: i32): i64 {
  const ts = slot + reader_slot.result;
  if (slot == 0) return -EFAULT; // no slot set: nowhere to put the result
  if (!clock_gettime_slow(vd_time, clock, ts)) {
    const ret = sys_clock_gettime(clock, ts);
    if (ret != 0) return ret;
  }
  return load<i64>(ts) * NSEC_PER_SEC + load<i64>(ts, 8);
}

/**
 * A reading as one i64 of nanoseconds (a BigInt in JS), or a negated errno.
 * The clock id comes as the f64 JS passes (an i32 parameter would let JS
 * coerce NaN to 0 and 2^32 + 1 to 1): if it is not an integer in i32 range
 * (NaN, 1.5, 2^32 + 1, Infinity), -EINVAL without reading. The check is one
 * saturating conversion and one compare back.
 */
export function clock_gettime_ns(clock_f: f64): i64 {
  const clock = <i32>clock_f; // saturating: NaN -> 0, out of range -> i32 min/max
  if (<f64>clock != clock_f) return -EINVAL;
  const v = fast_value(clock);
  return v >= 0 ? v : value_slow(clock);
}

/**
 * A reading as f64 nanoseconds (a plain number in JS: no allocation), or a
 * negated errno. Exact below 2^53 ns (104 days), as MONOTONIC usually is.
 * -EINVAL without reading if `clock` is not an integer in i32 range.
 */
export function clock_gettime_f64(clock_f: f64): f64 {
  const clock = <i32>clock_f;
  if (<f64>clock != clock_f) return <f64>-EINVAL;
  const v = fast_value(clock);
  return <f64>(v >= 0 ? v : value_slow(clock));
}
