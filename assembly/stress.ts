/**
 * Torn-read harness (a separate module, never shipped): reads every reader
 * path that loops on seq through the module's real entry points, and checks
 * each result against the invariant the harness's writer keeps
 * (test/stress/harness.ts writes it; the constants below are written there too).
 *
 * Update v sets, with u = v mod 2^24, for every clock c:
 *   sec(c) = u + OFF[c]
 *   ns(c)  = 1000 * ((u * K[c]) mod 100000 + (u * J[c]) mod 1000)
 * The second term comes from cycle_last of c's clock_data (the reader's
 * counter delta; the coarse clocks store it in their nsec). So every result,
 * whatever clock and entry point, is a total of nanoseconds in which sec names
 * u and the nanoseconds must match it; a result mixing fields of two updates
 * (basetime sec, basetime nsec, cycle_last) does not.
 *
 * Paths (the `path` argument of check_reads), each the entry points that reach one seq loop:
 *   0 hres         clock_gettime(REALTIME, MONOTONIC, BOOTTIME, TAI)   hres_once, do_hres
 *   1 raw          clock_gettime(MONOTONIC_RAW)                        the same on clock_data[1]
 *   2 coarse       clock_gettime(REALTIME_COARSE, MONOTONIC_COARSE)    do_coarse
 *   3 aux          clock_gettime(CLOCK_AUX)                            do_aux
 *   4 gettimeofday gettimeofday(tv, tz)                                do_hres (REALTIME, in us)
 *   5 value        clock_gettime_ns / clock_gettime_f64 (hres + raw)   hres_value (one pass), do_hres
 *   6 wasi         wasi_clock_time_get, precise and coarse             hres_value, do_hres, do_coarse
 *   7 hres_timens  clock_gettime (hres + raw), gettimeofday,
 *                  clock_gettime_ns, wasi precise, on a namespace page do_hres_timens
 *   8 coarse_timens clock_gettime coarse, wasi coarse, namespace page  do_coarse_timens
 *   9 aux_timens   clock_gettime(CLOCK_AUX), namespace page            do_aux's redirect
 * Paths 7..9 expect the reader bound to the namespace page (NS_MONO, NS_BOOT
 * below), the time page as its real page.
 */
import { clock_gettime, clock_gettime_f64, clock_gettime_ns, gettimeofday } from "./gettimeofday";
import { wasi_clock_time_get } from "./wasi";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME,
  CLOCK_REALTIME_COARSE, CLOCK_TAI, NSEC_PER_SEC,
} from "./layout";
import { slot } from "./view";

export { bind, set_slot } from "./view";

export const PATH_HRES = 0;
export const PATH_RAW = 1;
export const PATH_COARSE = 2;
export const PATH_AUX = 3;
export const PATH_GETTIMEOFDAY = 4;
export const PATH_VALUE = 5;
export const PATH_WASI = 6;
export const PATH_HRES_TIMENS = 7;
export const PATH_COARSE_TIMENS = 8;
export const PATH_AUX_TIMENS = 9;
export const PATHS = 10;

const U_MASK: u64 = (1 << 24) - 1;
const NS: u64 = <u64>NSEC_PER_SEC;
/** The namespace page's offsets (ns): MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE get NS_MONO; BOOTTIME NS_BOOT. */
const NS_MONO: u64 = 3000 * NS + 987654321;
const NS_BOOT: u64 = 7000 * NS + 123456789;
/** WASI: a precision at or above the tick picks the coarse clock. */
const WASI_COARSE: u64 = 10000000;

/** OFF[c]: seconds added to u. */
@inline
function off(clock: i32): u64 {
  switch (clock) {
    case CLOCK_REALTIME: return 1 << 25;
    case CLOCK_MONOTONIC: return 0;
    case CLOCK_MONOTONIC_RAW: return 100;
    case CLOCK_REALTIME_COARSE: return 1 << 25;
    case CLOCK_MONOTONIC_COARSE: return 0;
    case CLOCK_BOOTTIME: return 1 << 24;
    case CLOCK_TAI: return (1 << 25) + 37;
    default: return 5 << 22; // CLOCK_AUX
  }
}

/** K[c]: the basetime nsec multiplier (below 2^24, so u * K stays exact in a JS number). */
@inline
function mulk(clock: i32): u64 {
  switch (clock) {
    case CLOCK_REALTIME: return 7919;
    case CLOCK_MONOTONIC: return 104729;
    case CLOCK_MONOTONIC_RAW: return 1299709;
    case CLOCK_REALTIME_COARSE: return 15485863;
    case CLOCK_MONOTONIC_COARSE: return 2750159;
    case CLOCK_BOOTTIME: return 3497861;
    case CLOCK_TAI: return 5800079;
    default: return 7368787; // CLOCK_AUX
  }
}

/** J[c]: the cycle_last multiplier of c's clock_data (clock_data[0]: 1, [1]: 3, aux: 7). */
@inline
function mulj(clock: i32): u64 {
  if (clock == CLOCK_MONOTONIC_RAW) return 3;
  if (clock >= CLOCK_AUX) return 7;
  return 1;
}

/** The namespace offset a reader on the namespace page adds (do_aux adds none). */
@inline
function ns_offset(clock: i32): u64 {
  if (clock == CLOCK_MONOTONIC || clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_MONOTONIC_COARSE) return NS_MONO;
  if (clock == CLOCK_BOOTTIME) return NS_BOOT;
  return 0;
}

/** True if `total` ns (offset already taken off) is not a value of one update for `clock`. */
function bad_total(clock: i32, total: u64): bool {
  const sec = total / NS;
  const ns = total % NS;
  const u = sec - off(clock);
  if (u > U_MASK) return true;
  return ns != 1000 * ((u * mulk(clock)) % 100000 + (u * mulj(clock)) % 1000);
}

/** A timespec at `ts`: normalised, and a value of one update. */
function bad_timespec(clock: i32, ts: usize, timens: bool): bool {
  const sec = load<u64>(ts);
  const ns = load<u64>(ts, 8);
  if (ns >= NS) return true;
  const total = sec * NS + ns;
  return bad_total(clock, timens ? total - ns_offset(clock) : total);
}

const HRES_CLOCKS: StaticArray<i32> = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI];

let fallbacks: i32 = 0;
let last_fallbacks: i32 = 0;

/** One clock_gettime, checked; a fallback (the stub syscall) is counted, not checked. */
@inline
function gettime(clock: i32, timens: bool): i32 {
  const ts = slot;
  if (clock_gettime(clock, ts) != 0) {
    fallbacks++;
    return 0;
  }
  return bad_timespec(clock, ts, timens) ? 1 : 0;
}

@inline
function gtod(timens: bool): i32 {
  const tv = slot;
  if (gettimeofday(tv, tv + 16) != 0) {
    fallbacks++;
    return 0;
  }
  const usec = load<u64>(tv, 8);
  if (usec >= 1000000) return 1;
  return bad_total(CLOCK_REALTIME, load<u64>(tv) * NS + usec * 1000) ? 1 : 0;
}

@inline
function value_ns(clock: i32, timens: bool): i32 {
  const t = clock_gettime_ns(<f64>clock);
  if (t < 0) {
    fallbacks++;
    return 0;
  }
  return bad_total(clock, timens ? <u64>t - ns_offset(clock) : <u64>t) ? 1 : 0;
}

/** Exact here: every value is a multiple of 1000 below 2^56. */
@inline
function value_f64(clock: i32): i32 {
  const t = clock_gettime_f64(<f64>clock);
  if (t < 0) {
    fallbacks++;
    return 0;
  }
  return bad_total(clock, <u64>t) ? 1 : 0;
}

/** WASI clock 0 (realtime) or 1 (monotonic); coarse precision picks the coarse clock. */
@inline
function wasi(id: u32, coarse: bool, timens: bool): i32 {
  const out = slot + 32;
  if (wasi_clock_time_get(id, coarse ? WASI_COARSE : 0, out) != 0) {
    fallbacks++;
    return 0;
  }
  const clock = id == 0 ? (coarse ? CLOCK_REALTIME_COARSE : CLOCK_REALTIME) : coarse ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC;
  const t = load<u64>(out);
  return bad_total(clock, timens ? t - ns_offset(clock) : t) ? 1 : 0;
}

function read_one(path: i32, i: i32): i32 {
  switch (path) {
    case PATH_HRES: return gettime(unchecked(HRES_CLOCKS[i & 3]), false);
    case PATH_RAW: return gettime(CLOCK_MONOTONIC_RAW, false);
    case PATH_COARSE: return gettime(i & 1 ? CLOCK_MONOTONIC_COARSE : CLOCK_REALTIME_COARSE, false);
    case PATH_AUX: return gettime(CLOCK_AUX, false);
    case PATH_GETTIMEOFDAY: return gtod(false);
    case PATH_VALUE: {
      // MONOTONIC_RAW too: the value path reads it through a copy of its own.
      const clock = i & 8 ? CLOCK_MONOTONIC_RAW : unchecked(HRES_CLOCKS[i & 3]);
      return i & 4 ? value_f64(clock) : value_ns(clock, false);
    }
    case PATH_WASI: return wasi(<u32>(i & 1), (i & 2) != 0, false);
    case PATH_HRES_TIMENS: {
      const k = i & 7;
      if (k < 4) return gettime(unchecked(HRES_CLOCKS[k]), true);
      if (k == 4) return gettime(CLOCK_MONOTONIC_RAW, true);
      if (k == 5) return gtod(true);
      if (k == 6) return value_ns(CLOCK_BOOTTIME, true);
      return wasi(1, false, true);
    }
    case PATH_COARSE_TIMENS: {
      const k = i & 3;
      if (k < 2) return gettime(k ? CLOCK_MONOTONIC_COARSE : CLOCK_REALTIME_COARSE, true);
      return wasi(<u32>(k & 1), true, true);
    }
    case PATH_AUX_TIMENS: return gettime(CLOCK_AUX, true);
    default: return 0;
  }
}

/** `n` reads of `path`; returns how many were torn (last_fallback_count: how many took the syscall instead). */
export function check_reads(path: i32, n: i32): i32 {
  const before = fallbacks;
  let torn = 0;
  for (let i = 0; i < n; i++) torn += read_one(path, i);
  last_fallbacks = fallbacks - before;
  return torn;
}

/** Reads of the last check_reads call that went to the syscall instead (a live writer causes none). */
export function last_fallback_count(): i32 {
  return last_fallbacks;
}

/** All reads that went to the syscall. */
export function fallback_count(): i32 {
  return fallbacks;
}
