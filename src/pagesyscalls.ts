/**
 * The syscalls behind the vDSO's fallback when no live timekeeper is at hand
 * (a kernel in another thread, a replayed snapshot): what the store itself
 * can answer. Invalid ids get EINVAL and a disabled aux clock ENODEV, as the
 * kernel says. Where a writer has published (it keeps a shadow copy in the
 * arch page), every clock the page describes gets a time: the last consistent
 * state carried forward with the counter, or with the host's clock where the
 * counter itself stopped (degraded mode: a stuck, dead or closed writer),
 * never going back. A snapshot has no writer: the rest is ENOSYS there.
 * Every call is recorded, so callers can tell a vDSO answer from a syscall.
 */
import {
  CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
  CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_SGI_CYCLE, CLOCK_TAI, EINVAL, ENODEV, ENOSYS, LOW_RES_NSEC, MAX_CLOCKS, NO_PAGE,
  vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_time_data, vdso_timestamp,
} from "../assembly/layout.ts";
import type { View } from "./datastore.ts";
import { hostClocksource, hostResolutionNs } from "./kernel/clocksource.ts";
import { lastConsistent, PageState } from "./pageclock.ts";
import { goneFor } from "./kernel/adopt.ts";
import { NSEC_PER_SEC, nsToTs, type Timespec } from "./time.ts";
import type { Syscalls } from "./wasm.ts";

/** Clock ids the kernel does not know (its answer is EINVAL). */
export function isInvalidClockId(clock: number): boolean {
  return clock < 0 || clock > CLOCK_AUX_LAST || clock === CLOCK_SGI_CYCLE || (clock > CLOCK_TAI && clock < MAX_CLOCKS);
}

/** Clocks a time namespace offsets, and the offset slot each reads. */
const NS_OFFSET: Record<number, number> = {
  [CLOCK_MONOTONIC]: CLOCK_MONOTONIC, [CLOCK_MONOTONIC_RAW]: CLOCK_MONOTONIC_RAW, [CLOCK_MONOTONIC_COARSE]: CLOCK_MONOTONIC_COARSE,
  [CLOCK_BOOTTIME]: CLOCK_BOOTTIME, [CLOCK_BOOTTIME_ALARM]: CLOCK_BOOTTIME,
};

export class PageSyscalls implements Syscalls {
  fallbacks: number[] = [];
  /** The last answer per clock: degraded answers never go below it. */
  private floor = new Map<number, bigint>();
  private readonly host = hostClocksource();

  /** `view`: the reader's (a replay rebinds it); `counter`: what the vDSO's `rdtsc` import returns for this reader. */
  constructor(
    private memory: WebAssembly.Memory,
    public view: View,
    private counter: () => bigint,
  ) {}

  /** The page holding real data: page 0, or the real page behind a namespace page. */
  private get real(): number {
    const v = this.view;
    return v.real !== undefined && v.real !== NO_PAGE ? v.real : v.time;
  }

  private state(): PageState | null {
    const arch = this.view.arch;
    return arch === undefined || arch === NO_PAGE ? null : lastConsistent(this.memory, this.real, arch);
  }

  /** The counter a clock of mode `mode` reads, carried on with the host's clock where the ticker stopped. */
  private counterFor(mode: number): bigint | null {
    if (mode === vdso_clock_mode.TSC) return this.counter();
    if (mode !== vdso_clock_mode.SHARED_COUNTER && mode !== vdso_clock_mode.VIRTUAL) return null;
    const arch = this.view.arch!;
    const u64 = new BigUint64Array(this.memory.buffer);
    const word = Atomics.load(u64, (arch + vdso_arch_data.counter) >> 3);
    if (mode === vdso_clock_mode.VIRTUAL) return word + goneFor(this.memory, arch, this.host.read());
    // The shared counter is the host's ns clock, kept by a ticker: one that fell
    // far behind (10 periods, at least 10 ms) has stopped.
    const host = this.host.read();
    const period = Atomics.load(u64, (arch + vdso_arch_data.period_ns) >> 3);
    const slack = 10n * period > 10_000_000n ? 10n * period : 10_000_000n;
    return host - word > slack ? host : word;
  }

  /** `clock` of the last consistent state, now, with the namespace offset; or an errno. */
  private answer(clock: number): bigint | number {
    if (isInvalidClockId(clock)) return -EINVAL;
    const st = this.state();
    if (!st) {
      if (clock >= CLOCK_AUX && this.auxMode(clock - CLOCK_AUX) === vdso_clock_mode.NONE) return -ENODEV;
      return -ENOSYS;
    }
    if (PageState.clockOffset(clock) < 0) return -ENOSYS; // CPU time: not in the page
    if (clock >= CLOCK_AUX && st.mode(clock) === vdso_clock_mode.NONE) return -ENODEV;
    const coarse = clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE;
    const cycles = coarse ? 0n : this.counterFor(st.mode(clock));
    if (cycles === null) return -ENOSYS; // a counter JS cannot read (pvclock, Hyper-V)
    let ns = st.ns(clock, cycles);
    if (ns === null) return -ENOSYS;
    const slot = NS_OFFSET[clock];
    if (slot !== undefined && this.real !== this.view.time) ns += this.nsOffset(slot);
    const floor = this.floor.get(clock);
    if (floor !== undefined && ns < floor) ns = floor;
    this.floor.set(clock, ns);
    return ns;
  }

  /** The offset a namespace page (page 0 of a namespaced view) holds for `clock`. */
  private nsOffset(clock: number): bigint {
    const d = new DataView(this.memory.buffer);
    const at = this.view.time + vdso_time_data.clock_data + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
    return d.getBigInt64(at + vdso_timestamp.sec, true) * NSEC_PER_SEC + d.getBigInt64(at + vdso_timestamp.nsec, true);
  }

  /** clock_mode of aux clock `idx` in the page holding real data (no writer: the page is all there is). */
  private auxMode(idx: number): number {
    return new DataView(this.memory.buffer).getInt32(this.real + vdso_time_data.aux_clock_data + idx * vdso_clock.SIZE + vdso_clock.clock_mode, true);
  }

  clock_gettime(clock: number): Timespec | number {
    this.fallbacks.push(clock);
    const r = this.answer(clock);
    return typeof r === "number" ? r : nsToTs(r);
  }

  /** The resolution of what the fallback delivers: the page's, or the host clock's once the counter stopped. */
  clock_getres(clock: number): Timespec | number {
    this.fallbacks.push(clock);
    if (isInvalidClockId(clock)) return -EINVAL;
    const st = this.state();
    if (!st) return this.answer(clock) as number;
    if (clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE) return { sec: 0n, nsec: BigInt(LOW_RES_NSEC) };
    if (clock >= CLOCK_AUX) return st.mode(clock) === vdso_clock_mode.NONE ? -ENODEV : { sec: 0n, nsec: 1n };
    const mode = st.mode(CLOCK_REALTIME);
    if (mode === vdso_clock_mode.SHARED_COUNTER && this.counterFor(mode) !== Atomics.load(new BigUint64Array(this.memory.buffer), (this.view.arch! + vdso_arch_data.counter) >> 3)) {
      return { sec: 0n, nsec: BigInt(hostResolutionNs()) };
    }
    return this.answer(clock) === -ENOSYS ? -ENOSYS : { sec: 0n, nsec: BigInt(st.hrtimerRes || 1) };
  }

  gettimeofday() {
    this.fallbacks.push(-1);
    const st = this.state();
    const t = this.answer(CLOCK_REALTIME);
    if (!st || typeof t === "number") return typeof t === "number" ? t : -ENOSYS;
    return { sec: t / NSEC_PER_SEC, usec: (t % NSEC_PER_SEC) / 1000n, ...st.tz };
  }
}
