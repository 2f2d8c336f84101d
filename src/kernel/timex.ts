/**
 * `struct timex` and its constants (include/uapi/linux/timex.h): what a caller
 * of adjtimex/clock_adjtime writes and reads back.
 */
import { int, s64 } from "../time.ts";

export const ADJ_OFFSET = 0x0001;
export const ADJ_FREQUENCY = 0x0002;
export const ADJ_MAXERROR = 0x0004;
export const ADJ_ESTERROR = 0x0008;
export const ADJ_STATUS = 0x0010;
export const ADJ_TIMECONST = 0x0020;
export const ADJ_TAI = 0x0080;
export const ADJ_SETOFFSET = 0x0100;
export const ADJ_MICRO = 0x1000;
export const ADJ_NANO = 0x2000;
export const ADJ_TICK = 0x4000;
export const ADJ_ADJTIME = 0x8000;
export const ADJ_OFFSET_SINGLESHOT = 0x0001 | ADJ_ADJTIME;
export const ADJ_OFFSET_READONLY = 0x2000;

export const STA_PLL = 0x0001;
export const STA_PPSFREQ = 0x0002;
export const STA_PPSTIME = 0x0004;
export const STA_FLL = 0x0008;
export const STA_INS = 0x0010;
export const STA_DEL = 0x0020;
export const STA_UNSYNC = 0x0040;
export const STA_FREQHOLD = 0x0080;
export const STA_PPSSIGNAL = 0x0100;
export const STA_PPSJITTER = 0x0200;
export const STA_PPSWANDER = 0x0400;
export const STA_PPSERROR = 0x0800;
export const STA_CLOCKERR = 0x1000;
export const STA_NANO = 0x2000;
export const STA_MODE = 0x4000;
export const STA_CLK = 0x8000;

export const TIME_OK = 0;
export const TIME_INS = 1;
export const TIME_DEL = 2;
export const TIME_OOP = 3;
export const TIME_WAIT = 4;
export const TIME_ERROR = 5;

/**
 * `struct timex` as the kernel holds it: C `long` fields are bigint, `int`
 * fields numbers. adjtimex writes the read-back into the caller's object in
 * this shape.
 */
export interface Timex {
  modes: number;
  offset: bigint;
  freq: bigint;
  maxerror: bigint;
  esterror: bigint;
  status: number;
  constant: bigint;
  precision: bigint;
  tolerance: bigint;
  time: { sec: bigint; usec: bigint };
  tick: bigint;
  tai: number;
}

/** A timex as callers may write it: any field may be missing (0); a `long` field is a bigint or a safe integer. */
export interface TimexInput {
  modes?: number;
  offset?: bigint | number;
  freq?: bigint | number;
  maxerror?: bigint | number;
  esterror?: bigint | number;
  status?: number;
  constant?: bigint | number;
  precision?: bigint | number;
  tolerance?: bigint | number;
  time?: { sec?: bigint | number; usec?: bigint | number };
  tick?: bigint | number;
  tai?: number;
}

const LONG_FIELDS = ["offset", "freq", "maxerror", "esterror", "constant", "precision", "tolerance", "tick"] as const;

const long = (v: unknown, field: string) => (v === undefined ? 0n : s64(v, field));
const cint = (v: unknown, field: string) => (v === undefined ? 0 : int(v, field));

/**
 * The kernel's copy of a caller's timex (its `copy_from_user`): every field
 * converted and range-checked, a missing one 0. Throws a TypeError or
 * RangeError naming the field (e.g. "timex.freq"); reads nothing else.
 */
function readTimex(v: unknown, name = "timex"): Timex {
  if (v === null || typeof v !== "object") throw new TypeError(`wasm-vdso: ${name} must be an object, not ${v === null ? "null" : typeof v}`);
  const o = v as Record<string, unknown>;
  const modes = cint(o.modes, `${name}.modes`);
  // `unsigned int modes`: a negative number is no set of ADJ_ bits.
  if (modes < 0) throw new RangeError(`wasm-vdso: ${name}.modes must not be negative, not ${modes}`);
  const t = o.time;
  if (t !== undefined && (t === null || typeof t !== "object")) throw new TypeError(`wasm-vdso: ${name}.time must be { sec, usec }, not ${t === null ? "null" : typeof t}`);
  const time = t as Record<string, unknown> | undefined;
  const out = { modes, status: cint(o.status, `${name}.status`), tai: cint(o.tai, `${name}.tai`) } as Timex;
  for (const f of LONG_FIELDS) out[f] = long(o[f], `${name}.${f}`);
  out.time = { sec: long(time?.sec, `${name}.time.sec`), usec: long(time?.usec, `${name}.time.usec`) };
  return out;
}

/**
 * A timex with every field zero, plus the given ones (numbers in `long`
 * fields converted). The kernel makes its own copy of a caller's timex the
 * same way, so a bad field is refused before anything changes.
 */
export function timex(t: TimexInput = {}): Timex {
  return readTimex(t);
}

/**
 * The `copy_to_user` of adjtimex: the read-back into the caller's object, a
 * field at a time by assignment (its setters and a Proxy's traps run; `time`
 * gets a new object). The kernel writes it before it makes the change, so an
 * object that refuses a field (frozen, sealed without the field, a setter or
 * trap that throws) refuses the call with no trace: the fields written so far
 * are put back, and it returns false. Otherwise it returns true and `undo`
 * holds what puts the object back as it was.
 */
export function writeTimex(to: object, from: Timex, undo: (() => void)[] = []): boolean {
  const o = to as Record<string, unknown>;
  try {
    for (const [key, value] of Object.entries(from)) {
      const had = Object.prototype.hasOwnProperty.call(o, key);
      const old = had ? o[key] : undefined;
      o[key] = key === "time" ? { ...(value as object) } : value;
      undo.push(had ? () => void (o[key] = old) : () => void delete o[key]);
    }
    return true;
  } catch {
    putBack(undo);
    return false;
  }
}

/** Runs `undo` (from writeTimex) last write first; an object that refuses that too keeps what it took. */
export function putBack(undo: (() => void)[]): void {
  for (const u of undo.splice(0).reverse()) {
    try {
      u();
    } catch {
      // nothing more can be done for it
    }
  }
}
