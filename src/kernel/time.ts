/** Timespec arithmetic in BigInt (include/linux/time64.h), shared by the kernel side. */
export const NSEC_PER_SEC = 1_000_000_000n;
/** `KTIME_SEC_MAX`: the largest second a ktime_t (s64 ns) holds. */
export const KTIME_SEC_MAX = (1n << 63n) / NSEC_PER_SEC - 1n;
/** `TIME_SETTOD_SEC_MAX`: settimeofday leaves 30 years of uptime below KTIME_SEC_MAX. */
export const TIME_SETTOD_SEC_MAX = KTIME_SEC_MAX - 30n * 365n * 86400n;

/** s64 seconds and nanoseconds; normalised means 0 <= nsec < 1e9. */
export interface Timespec64 {
  sec: bigint;
  nsec: bigint;
}

export const ts = (sec: bigint | number, nsec: bigint | number = 0n): Timespec64 => ({ sec: BigInt(sec), nsec: BigInt(nsec) });

/** `set_normalized_timespec64`. */
export function normalize(sec: bigint, nsec: bigint): Timespec64 {
  let s = sec + nsec / NSEC_PER_SEC;
  let n = nsec % NSEC_PER_SEC;
  if (n < 0n) {
    n += NSEC_PER_SEC;
    s -= 1n;
  }
  return { sec: s, nsec: n };
}

export const tsAdd = (a: Timespec64, b: Timespec64) => normalize(a.sec + b.sec, a.nsec + b.nsec);
export const tsSub = (a: Timespec64, b: Timespec64) => normalize(a.sec - b.sec, a.nsec - b.nsec);
export const tsToNs = (a: Timespec64) => a.sec * NSEC_PER_SEC + a.nsec;
export const nsToTs = (ns: bigint) => normalize(0n, ns);
export const tsCompare = (a: Timespec64, b: Timespec64) =>
  a.sec !== b.sec ? (a.sec < b.sec ? -1 : 1) : a.nsec === b.nsec ? 0 : a.nsec < b.nsec ? -1 : 1;

/** `timespec64_valid`: nsec in range, sec not negative. */
export const tsValid = (a: Timespec64) => a.sec >= 0n && a.nsec >= 0n && a.nsec < NSEC_PER_SEC;
/** `timespec64_valid_settod`: valid, and far enough from the ktime limit. */
export const tsValidSettod = (a: Timespec64) => tsValid(a) && a.sec < TIME_SETTOD_SEC_MAX;
