/** Test helpers: hand-written pages at known store addresses, and a kernel-like syscall stub. */
import {
  CLOCK_AUX_LAST,
  CLOCK_SGI_CYCLE,
  CLOCK_TAI,
  EINVAL,
  MAX_CLOCKS,
  STORE_START,
  vdso_clock,
  vdso_pages,
  vdso_time_data,
  vdso_timestamp,
} from "../../assembly/layout.ts";
import type { Syscalls } from "../../src/wasm.ts";
import type { Timespec } from "../../src/time.ts";

export const PAGE = vdso_pages.PAGE_SIZE;
export const TIME_PAGE = STORE_START;
export const REAL_PAGE = STORE_START + PAGE;
export const RNG_PAGE = STORE_START + 2 * PAGE;
export const ARCH_PAGE = STORE_START + 3 * PAGE;
export const PVCLOCK_PAGE = STORE_START + 4 * PAGE;

export interface ClockFields {
  seq?: number;
  mode: number;
  cycle_last?: bigint;
  max_cycles?: bigint;
  mask?: bigint;
  mult?: number;
  shift?: number;
  /** basetime[i] = [sec, nsec] */
  base?: Record<number, [bigint, bigint]>;
}

/** Address of clock_data[cs] in a time page. */
export const clockAt = (page: number, cs: number) => page + vdso_time_data.clock_data + cs * vdso_clock.SIZE;
/** Address of aux_clock_data[n] in a time page. */
export const auxAt = (page: number, n: number) => page + vdso_time_data.aux_clock_data + n * vdso_clock.SIZE;

export function writeClock(mem: WebAssembly.Memory, vc: number, f: ClockFields): void {
  const d = new DataView(mem.buffer);
  d.setUint32(vc + vdso_clock.seq, f.seq ?? 2, true); // 2: published once (0 is a page no writer has published)
  d.setInt32(vc + vdso_clock.clock_mode, f.mode, true);
  d.setBigUint64(vc + vdso_clock.cycle_last, f.cycle_last ?? 0n, true);
  d.setBigUint64(vc + vdso_clock.max_cycles, f.max_cycles ?? 0n, true);
  d.setBigUint64(vc + vdso_clock.mask, f.mask ?? (1n << 64n) - 1n, true);
  d.setUint32(vc + vdso_clock.mult, f.mult ?? 0, true);
  d.setUint32(vc + vdso_clock.shift, f.shift ?? 0, true);
  for (const [i, [sec, nsec]] of Object.entries(f.base ?? {})) {
    const bt = vc + vdso_clock.basetime + Number(i) * vdso_timestamp.SIZE;
    d.setBigUint64(bt + vdso_timestamp.sec, BigInt.asUintN(64, sec), true);
    d.setBigUint64(bt + vdso_timestamp.nsec, BigInt.asUintN(64, nsec), true);
  }
}

export function clearStore(mem: WebAssembly.Memory): void {
  new Uint8Array(mem.buffer, STORE_START, 8 * PAGE).fill(0);
}

/**
 * A syscall layer answering like Linux: EINVAL for ids the kernel does not
 * know, a fixed time for the rest. Records each call.
 */
export class RecordingSyscalls implements Syscalls {
  calls: Array<[string, number]> = [];
  answer: Timespec = { sec: 777n, nsec: 123n };
  aux: (clock: number) => number = () => 0;
  private valid(clock: number): boolean {
    return clock >= 0 && clock <= CLOCK_AUX_LAST && clock !== CLOCK_SGI_CYCLE && !(clock > CLOCK_TAI && clock < MAX_CLOCKS);
  }
  clock_gettime(clock: number) {
    this.calls.push(["clock_gettime", clock]);
    if (!this.valid(clock)) return -EINVAL;
    const aux = this.aux(clock);
    return aux !== 0 ? aux : this.answer;
  }
  clock_getres(clock: number) {
    this.calls.push(["clock_getres", clock]);
    return this.valid(clock) ? { sec: 0n, nsec: 1n } : -EINVAL;
  }
  gettimeofday() {
    this.calls.push(["gettimeofday", 0]);
    return { sec: 555n, usec: 7n, minuteswest: -60, dsttime: 1 };
  }
}
