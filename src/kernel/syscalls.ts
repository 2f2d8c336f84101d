/**
 * The kernel's answers to the clock syscalls the vDSO falls back to
 * (kernel/time/posix-timers.c, posix-stubs, the aux clocks): which ids are
 * clocks, and what clock_gettime and clock_getres say for a task in a time
 * namespace.
 */
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
  CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE, CLOCK_TAI,
  CLOCK_THREAD_CPUTIME_ID, EINVAL, ENODEV, LOW_RES_NSEC,
} from "../../assembly/layout.ts";
import { nsToTs, type Timespec, tsAdd } from "../time.ts";
import type { Kernel } from "./kernel.ts";
import type { TimeNamespace } from "./timens.ts";
import { HRTIMER_RES } from "./vsyscall.ts";

/** A clock id the kernel looks up: an integer number in int range (anything else is no clock: -EINVAL). */
export const isClockId = (c: unknown): c is number => typeof c === "number" && Number.isInteger(c) && c >= -(2 ** 31) && c < 2 ** 31;

/** Clocks that exist but have no clock_adj (clock_adjtime: -EOPNOTSUPP). */
export const CLOCKS_WITHOUT_ADJ = new Set([
  CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
  CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI,
]);

/** CPU time of this process, where the host can tell (Node); else undefined. */
function processCpuTime(): Timespec | undefined {
  if (typeof process === "undefined" || typeof process.cpuUsage !== "function") return undefined;
  const u = process.cpuUsage();
  return nsToTs(BigInt(u.user + u.system) * 1000n);
}

/** clock_gettime of a task in `ns` (null: the root namespace): a time, or a negated errno. */
export function clockGettime(k: Kernel, clock: number, ns: TimeNamespace | null): Timespec | number {
  if (!isClockId(clock)) return -EINVAL;
  const tk = k.core;
  const nsMono = (t: Timespec) => (ns ? tsAdd(t, ns.monotonic) : t);
  const nsBoot = (t: Timespec) => (ns ? tsAdd(t, ns.boottime) : t);
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_ALARM:
      return tk.realtime();
    case CLOCK_MONOTONIC:
      return nsMono(tk.monotonic());
    case CLOCK_MONOTONIC_RAW:
      return nsMono(tk.monotonicRaw());
    case CLOCK_REALTIME_COARSE:
      return tk.realtimeCoarse();
    case CLOCK_MONOTONIC_COARSE:
      return nsMono(tk.monotonicCoarse());
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
      return nsBoot(tk.boottime());
    case CLOCK_TAI:
      return tk.tai();
    case CLOCK_PROCESS_CPUTIME_ID:
      return processCpuTime() ?? -EINVAL;
    case CLOCK_THREAD_CPUTIME_ID:
      return -EINVAL; // no host API gives this thread's CPU time
  }
  const aux = k.auxOf(clock);
  if (!aux) return -EINVAL;
  return aux.valid ? aux.tk.auxTime() : -ENODEV;
}

/** clock_getres: the resolution this emulator delivers. */
export function clockGetres(k: Kernel, clock: number): Timespec | number {
  if (!isClockId(clock)) return -EINVAL;
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
      return { sec: 0n, nsec: BigInt(k.cs.resolutionNs?.() ?? HRTIMER_RES) };
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
      return { sec: 0n, nsec: BigInt(LOW_RES_NSEC) };
    case CLOCK_PROCESS_CPUTIME_ID:
      return processCpuTime() ? { sec: 0n, nsec: 1000n } : -EINVAL; // cpuUsage counts microseconds
    case CLOCK_THREAD_CPUTIME_ID:
      return -EINVAL;
  }
  return k.auxOf(clock) ? { sec: 0n, nsec: 1n } : -EINVAL;
}
