/**
 * `struct timex` and its constants (include/uapi/linux/timex.h): what a caller
 * of adjtimex/clock_adjtime writes and reads back.
 */
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

/** `struct timex`: the fields adjtimex reads and fills. `freq`/`offset` may be BigInt (C `long`). */
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

/** A timex with every field zero, plus the given ones. */
export function timex(t: Partial<Omit<Timex, "time">> & { time?: Partial<Timex["time"]> } = {}): Timex {
  return {
    modes: 0, offset: 0n, freq: 0n, maxerror: 0n, esterror: 0n, status: 0, constant: 0n, precision: 0n,
    tolerance: 0n, tick: 0n, tai: 0, ...t, time: { sec: 0n, usec: 0n, ...t.time },
  };
}

