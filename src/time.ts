/**
 * Time values for both sides (include/linux/time64.h): one timespec type, the
 * constants, normalisation and the carry of shifted nanoseconds, and the
 * checks that turn a caller's value into one (C `long` fields take a bigint or
 * a safe-integer number, converted exactly; anything else names the field).
 */
import { NSEC_PER_SEC as NSEC_PER_SEC_N, NSEC_PER_USEC as NSEC_PER_USEC_N } from "../assembly/layout.ts";

export const NSEC_PER_SEC = BigInt(NSEC_PER_SEC_N);
export const NSEC_PER_USEC = BigInt(NSEC_PER_USEC_N);
export const U64_MAX = (1n << 64n) - 1n;
export const S64_MAX = (1n << 63n) - 1n;
export const S64_MIN = -(1n << 63n);
/** `KTIME_SEC_MAX` (`KTIME_MAX / NSEC_PER_SEC`): the largest whole second a ktime_t (s64 ns) holds. */
export const KTIME_SEC_MAX = S64_MAX / NSEC_PER_SEC;
/** `TIME_SETTOD_SEC_MAX`: settimeofday leaves 30 years of uptime below KTIME_SEC_MAX. */
export const TIME_SETTOD_SEC_MAX = KTIME_SEC_MAX - 30n * 365n * 86400n;

/** `struct timespec64`: s64 seconds and nanoseconds; normalised means 0 <= nsec < 1e9. */
export interface Timespec {
  sec: bigint;
  nsec: bigint;
}

/** A timespec as callers may write it: each field a bigint or a safe integer. */
export interface TimespecInput {
  sec: bigint | number;
  nsec: bigint | number;
}

/** `set_normalized_timespec64`. */
export function normalize(sec: bigint, nsec: bigint): Timespec {
  let s = sec + nsec / NSEC_PER_SEC;
  let n = nsec % NSEC_PER_SEC;
  if (n < 0n) {
    n += NSEC_PER_SEC;
    s -= 1n;
  }
  return { sec: s, nsec: n };
}

/**
 * Whole seconds out of shifted nanoseconds (`nsec << shift`), as the kernel's
 * `while (nsec >= NSEC_PER_SEC << shift)` loops do: [sec, rest].
 */
export function carryShifted(sec: bigint, nsec: bigint, shift: bigint): [bigint, bigint] {
  const ps = NSEC_PER_SEC << shift;
  if (nsec >= ps) {
    sec += nsec / ps;
    nsec %= ps;
  }
  return [sec, nsec];
}

export const tsAdd = (a: Timespec, b: Timespec) => normalize(a.sec + b.sec, a.nsec + b.nsec);
export const tsSub = (a: Timespec, b: Timespec) => normalize(a.sec - b.sec, a.nsec - b.nsec);
export const tsToNs = (a: Timespec) => a.sec * NSEC_PER_SEC + a.nsec;
export const nsToTs = (ns: bigint) => normalize(0n, ns);

/** A timespec with its fields also as numbers (NaN where not a safe integer). */
export interface TimespecN extends Timespec {
  secN: number;
  nsecN: number;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** 2^i as numbers, i in 0..63 (`2 ** i` with a variable i was the publication's hottest line). */
export const POW2 = Array.from({ length: 64 }, (_, i) => 2 ** i);
/** A bigint as a number where that is exact, else NaN. */
export const safeNumber = (v: bigint) => (v >= -SAFE && v <= SAFE ? Number(v) : NaN);

/** nsToTs of the value last asked, kept (an offset read every tick but rarely changed); the timespec is shared: read it only. */
export class TsOfNs {
  private ns = 0n;
  private ts: TimespecN = { sec: 0n, nsec: 0n, secN: 0, nsecN: 0 };
  of(ns: bigint): TimespecN {
    if (ns !== this.ns) {
      const t = nsToTs((this.ns = ns));
      this.ts = { ...t, secN: safeNumber(t.sec), nsecN: safeNumber(t.nsec) };
    }
    return this.ts;
  }
}

/**
 * An integer kept as a number while it is a safe integer (the tick's
 * arithmetic, exact there), and as a bigint otherwise; the bigint view is
 * made when asked. `n` is NaN exactly when only the bigint holds the value.
 */
export class Cell {
  n = 0;
  private b: bigint | undefined = 0n;
  get big(): bigint {
    return this.b ?? (this.b = BigInt(this.n));
  }
  set big(v: bigint) {
    this.b = v;
    this.n = safeNumber(v);
  }
  /** A safe integer (the caller proved it). */
  put(x: number): void {
    this.n = x;
    this.b = undefined;
  }
}
export const tsCompare = (a: Timespec, b: Timespec) =>
  a.sec !== b.sec ? (a.sec < b.sec ? -1 : 1) : a.nsec === b.nsec ? 0 : a.nsec < b.nsec ? -1 : 1;

/** `timespec64_valid`: nsec in range, sec not negative. */
export const tsValid = (a: Timespec) => a.sec >= 0n && a.nsec >= 0n && a.nsec < NSEC_PER_SEC;
/** `timespec64_valid_settod`: valid, and far enough from the ktime limit. */
export const tsValidSettod = (a: Timespec) => tsValid(a) && a.sec < TIME_SETTOD_SEC_MAX;
/** `timespec64_valid_strict`: valid, and within ktime_t. */
export const tsValidStrict = (a: Timespec) => tsValid(a) && a.sec < KTIME_SEC_MAX;

/**
 * A C `long long` field: a bigint, or a number that is a safe integer
 * (converted exactly). Anything else is a TypeError, a value outside s64 a
 * RangeError; both name the field.
 */
export function s64(v: unknown, field: string): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === "number") throw new RangeError(`wasm-vdso: ${field} must be an integer (a bigint or a safe integer), not ${v}`);
  else throw new TypeError(`wasm-vdso: ${field} must be a bigint or an integer number, not ${describe(v)}`);
  if (b < S64_MIN || b > S64_MAX) throw new RangeError(`wasm-vdso: ${field} ${b} does not fit in 64 bits`);
  return b;
}

/** A C `int` field: an integer number in i32 range. */
export function int(v: unknown, field: string): number {
  if (typeof v === "bigint" && v >= -(2n ** 31n) && v < 2n ** 31n) return Number(v);
  if (typeof v !== "number" && typeof v !== "bigint") throw new TypeError(`wasm-vdso: ${field} must be an integer, not ${describe(v)}`);
  if (typeof v === "bigint" || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
    throw new RangeError(`wasm-vdso: ${field} must be an integer in int range, not ${v}`);
  }
  return v;
}

/** A timespec argument, each field checked as `s64`. */
export function timespec(t: unknown, field: string): Timespec {
  if (t === null || typeof t !== "object") throw new TypeError(`wasm-vdso: ${field} must be { sec, nsec }, not ${describe(t)}`);
  const o = t as Record<string, unknown>;
  return { sec: s64(o.sec, `${field}.sec`), nsec: s64(o.nsec, `${field}.nsec`) };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  return typeof v;
}
