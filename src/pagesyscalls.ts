/**
 * The syscalls behind the vDSO's fallback when no live timekeeper is at hand
 * (a replayed snapshot, or a kernel in another thread): what the page itself
 * can answer. Invalid ids get EINVAL and a disabled aux clock ENODEV, as the
 * kernel says; the rest (CPU time, alarm clocks, a stuck writer) is ENOSYS.
 * Every call is recorded, so callers can tell a vDSO answer from a syscall.
 */
import { CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_SGI_CYCLE, CLOCK_TAI, EINVAL, ENODEV, ENOSYS, MAX_CLOCKS, vdso_clock_mode } from "../assembly/layout.ts";
import type { Syscalls } from "./wasm.ts";

/** Clock ids the kernel does not know (its answer is EINVAL). */
export function isInvalidClockId(clock: number): boolean {
  return clock < 0 || clock > CLOCK_AUX_LAST || clock === CLOCK_SGI_CYCLE || (clock > CLOCK_TAI && clock < MAX_CLOCKS);
}

export class PageSyscalls implements Syscalls {
  fallbacks: number[] = [];
  /** `auxMode(n)`: clock_mode of aux clock n in the page holding the real data. */
  constructor(private auxMode: (idx: number) => number) {}

  private answer(clock: number): number {
    this.fallbacks.push(clock);
    if (isInvalidClockId(clock)) return -EINVAL;
    if (clock >= CLOCK_AUX && this.auxMode(clock - CLOCK_AUX) === vdso_clock_mode.NONE) return -ENODEV;
    return -ENOSYS;
  }
  clock_gettime(clock: number): number {
    return this.answer(clock);
  }
  clock_getres(clock: number): number {
    return this.answer(clock);
  }
  gettimeofday(): number {
    this.fallbacks.push(-1);
    return -ENOSYS;
  }
}
