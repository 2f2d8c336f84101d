/**
 * The kernel side, wired together: a clocksource, the core timekeeper, eight
 * aux clocks, time namespaces, the rng page and the syscalls behind the
 * vDSO's fallback. It writes a data store; readers (anywhere) read it.
 */
import {
  CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE,
  CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, EINVAL, ENODEV, LOW_RES_NSEC, MAX_AUX_CLOCKS,
} from "../../assembly/layout.ts";
import { DataStore, storeMemory, type View } from "../datastore.ts";
import { canShare } from "../workers/spawn.ts";
import { type Clocksource, hostClocksource, SharedCounterClocksource, VirtualClocksource } from "./clocksource.ts";
import { validateTimex } from "./ntp.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, ADJ_TICK, type Timex } from "./timex.ts";
import { RngPage } from "./random.ts";
import { Timekeeper } from "./timekeeper.ts";
import { createTimeNamespace, type TimeNamespace } from "./timens.ts";
import {
  normalize, NSEC_PER_SEC, nsToTs, type Timespec, timespec, type TimespecInput, tsAdd, tsCompare, tsSub, tsToNs, tsValid, tsValidSettod,
} from "../time.ts";
import { HRTIMER_RES, updateVsyscall, updateVsyscallTz, vdsoTimeUpdateAux } from "./vsyscall.ts";

export const ERANGE = 34;

/**
 * How readers get the counter: "host-call" (an import per read: exact, a host
 * call's cost), "shared" (a word in the arch page kept by a ticker: one load),
 * "virtual" (a word advanced only by the host). Default: "shared" where shared
 * memory and workers exist (the fastest, with its resolution published), else
 * "host-call".
 */
export type CounterMode = "host-call" | "shared" | "virtual";

export interface KernelOptions {
  /** The counter mode (ignored when `clocksource` is given). */
  counter?: CounterMode;
  /** Ticker period for "shared" in ns; 0 spins (best resolution, one core busy). Default 50 us. */
  tickerPeriodNs?: number;
  /**
   * Put the data store in this memory (from `storeMemory`, or a KernelWorker's),
   * or in a new shared one if true (readers in other threads need that). It
   * must not have a writer already. Default: shared where the counter mode
   * needs a ticker thread, else a plain memory.
   */
  memory?: WebAssembly.Memory | boolean;
  /** Any clocksource (e.g. a VirtualClocksource to drive). */
  clocksource?: Clocksource;
  /** CLOCK_REALTIME at start; default the host's wall clock. */
  realtime?: TimespecInput;
}

/** An aux clock: its own timekeeper on the core's clocksource, and whether it is enabled. */
export interface AuxClock {
  tk: Timekeeper;
  valid: boolean;
}

/** CPU time of this process, where the host can tell (Node); else undefined. */
function processCpuTime(): Timespec | undefined {
  if (typeof process === "undefined" || typeof process.cpuUsage !== "function") return undefined;
  const u = process.cpuUsage();
  return nsToTs(BigInt(u.user + u.system) * 1000n);
}

export class Kernel {
  readonly store: DataStore;
  readonly core: Timekeeper;
  readonly aux: AuxClock[];
  readonly rng: RngPage;
  tz = { minuteswest: 0, dsttime: 0 };
  private ticker?: ReturnType<typeof setInterval>;

  private constructor(
    readonly cs: Clocksource,
    store: DataStore,
    realtime: Timespec,
  ) {
    this.store = store;
    this.core = new Timekeeper(cs);
    this.core.setXtime(realtime);
    // At boot monotonic starts at 0: wall_to_monotonic = -realtime.
    this.core.wallToMonotonic = normalize(-realtime.sec, -realtime.nsec);
    this.aux = Array.from({ length: MAX_AUX_CLOCKS }, () => ({ tk: new Timekeeper(cs, true), valid: false }));
    this.rng = new RngPage(this.store);
    this.rng.init();
    this.publish();
    for (let i = 0; i < MAX_AUX_CLOCKS; i++) this.publishAux(i);
  }

  static async create(opts: KernelOptions = {}): Promise<Kernel> {
    const now = Date.now();
    const realtime = opts.realtime === undefined ? { sec: BigInt(Math.floor(now / 1000)), nsec: BigInt(now % 1000) * 1_000_000n } : timespec(opts.realtime, "realtime");
    if (!tsValidSettod(realtime)) throw new RangeError(`wasm-vdso: realtime ${realtime.sec}.${realtime.nsec} is not a valid time to set`);
    const mode = opts.counter ?? (canShare() ? "shared" : "host-call");
    const cs =
      opts.clocksource ??
      (mode === "virtual" ? new VirtualClocksource() : mode === "shared" ? new SharedCounterClocksource(opts.tickerPeriodNs) : hostClocksource());
    // A ticker worker needs the store in shared memory.
    const m = opts.memory ?? (mode === "shared" && !opts.clocksource && canShare());
    const memory = m instanceof WebAssembly.Memory ? m : storeMemory(m);
    const store = new DataStore(memory, undefined, true);
    await cs.attach?.(store);
    return new Kernel(cs, store, realtime);
  }

  /** The memory holding the data store: hand it to readers in other threads. */
  get memory(): WebAssembly.Memory {
    return this.store.memory;
  }

  /** Stops the tick timer and the counter's ticker. */
  close(): void {
    this.stopTicking();
    this.cs.close?.();
  }

  /** The view of a task in the root time namespace (a namespace's is `ns.view`). */
  rootView(): View {
    return this.store.rootView();
  }

  /** `update_vsyscall` for the core timekeeper. */
  publish(): void {
    updateVsyscall(this.store, this.core);
  }

  private publishAux(idx: number): void {
    vdsoTimeUpdateAux(this.store, idx, this.aux[idx].tk, this.aux[idx].valid);
  }

  /** The periodic tick: accumulate elapsed time into every timekeeper and publish. */
  tick(): void {
    this.cs.onTick?.();
    if (this.core.advance("tick")) this.publish();
    this.aux.forEach((a, i) => {
      if (a.valid && a.tk.advance("tick")) this.publishAux(i);
    });
  }

  /** Ticks from a host timer at `hz` (the timekeeper's own HZ stays 250; a late tick just accumulates more). */
  startTicking(hz = 250): void {
    this.stopTicking();
    this.ticker = setInterval(() => this.tick(), 1000 / hz);
  }

  stopTicking(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  // ---- syscalls (the kernel's own answers), for a task in `ns` (null: the root namespace) ----

  private auxOf(clock: number): AuxClock | undefined {
    return clock >= CLOCK_AUX && clock <= CLOCK_AUX_LAST ? this.aux[clock - CLOCK_AUX] : undefined;
  }

  /** The clock_gettime syscall of a task in `ns`: a time, or a negated errno. */
  sysClockGettime(clock: number, ns: TimeNamespace | null = null): Timespec | number {
    const tk = this.core;
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
    const aux = this.auxOf(clock);
    if (!aux) return -EINVAL;
    return aux.valid ? aux.tk.auxTime() : -ENODEV;
  }

  /** The gettimeofday syscall: REALTIME in microseconds and the timezone. */
  sysGettimeofday(): { sec: bigint; usec: bigint; minuteswest: number; dsttime: number } {
    const t = this.core.realtime();
    return { sec: t.sec, usec: t.nsec / 1000n, minuteswest: this.tz.minuteswest, dsttime: this.tz.dsttime };
  }

  /** The clock_getres syscall: the resolution this emulator delivers. */
  sysClockGetres(clock: number): Timespec | number {
    switch (clock) {
      case CLOCK_REALTIME:
      case CLOCK_MONOTONIC:
      case CLOCK_MONOTONIC_RAW:
      case CLOCK_BOOTTIME:
      case CLOCK_TAI:
      case CLOCK_REALTIME_ALARM:
      case CLOCK_BOOTTIME_ALARM:
        return { sec: 0n, nsec: BigInt(this.cs.resolutionNs?.() ?? HRTIMER_RES) };
      case CLOCK_REALTIME_COARSE:
      case CLOCK_MONOTONIC_COARSE:
        return { sec: 0n, nsec: BigInt(LOW_RES_NSEC) };
      case CLOCK_PROCESS_CPUTIME_ID:
        return processCpuTime() ? { sec: 0n, nsec: 1000n } : -EINVAL; // cpuUsage counts microseconds
      case CLOCK_THREAD_CPUTIME_ID:
        return -EINVAL;
    }
    return this.auxOf(clock) ? { sec: 0n, nsec: 1n } : -EINVAL;
  }

  /** `clock_settime`: REALTIME (moves REALTIME and TAI) or an aux clock. */
  clockSettime(clock: number, t: Timespec): number {
    if (clock === CLOCK_REALTIME) return this.doSettimeofday(t);
    const aux = this.auxOf(clock);
    if (!aux) return -EINVAL;
    if (!tsValidSettod(t)) return -EINVAL;
    if (!aux.valid) return -ENODEV;
    aux.tk.forwardNow();
    aux.tk.offsAux = tsToNs(t) - tsToNs(aux.tk.xtime());
    this.publishAux(clock - CLOCK_AUX);
    return 0;
  }

  /** `do_settimeofday64`. */
  private doSettimeofday(t: Timespec): number {
    if (!tsValidSettod(t)) return -EINVAL;
    const tk = this.core;
    tk.forwardNow();
    const delta = tsSub(t, tk.xtime());
    // REALTIME may not be set before the moment monotonic time began.
    if (tsCompare(tk.wallToMonotonic, delta) > 0) return -EINVAL;
    tk.wallToMonotonic = tsSub(tk.wallToMonotonic, delta);
    tk.setXtime(t);
    this.publish();
    return 0;
  }

  /** `settimeofday(tv, tz)`: either may be null. */
  settimeofday(tv: Timespec | null, tz: { minuteswest: number; dsttime: number } | null): number {
    if (tz && (!Number.isInteger(tz.minuteswest) || tz.minuteswest > 15 * 60 || tz.minuteswest < -15 * 60)) return -EINVAL;
    if (tv && (tv.nsec < 0n || tv.nsec >= NSEC_PER_SEC)) return -EINVAL;
    if (tz) {
      this.tz = { minuteswest: tz.minuteswest, dsttime: tz.dsttime };
      updateVsyscallTz(this.store, tz.minuteswest, tz.dsttime);
    }
    return tv ? this.doSettimeofday(tv) : 0;
  }

  /** `timekeeping_inject_offset` for the core (REALTIME and TAI move, MONOTONIC does not). */
  private injectOffset(tk: Timekeeper, delta: Timespec): number {
    if (delta.nsec < 0n || delta.nsec >= NSEC_PER_SEC) return -EINVAL;
    tk.forwardNow();
    if (tk.isAux) {
      const offs = tk.offsAux + tsToNs(delta);
      if (tsToNs(tk.xtime()) + offs < 0n) return -EINVAL;
      tk.offsAux = offs;
      return 0;
    }
    const t = tsAdd(tk.xtime(), delta);
    if (tsCompare(tk.wallToMonotonic, delta) > 0 || !tsValidSettod(t)) return -EINVAL;
    tk.addXtime(delta);
    tk.wallToMonotonic = tsSub(tk.wallToMonotonic, delta);
    return 0;
  }

  /** `do_adjtimex` on a timekeeper: 0..5 (TIME_OK...) or a negated errno; fills `txc`. */
  private doAdjtimex(tk: Timekeeper, txc: Timex, republish: () => void): number {
    const bad = validateTimex(txc, tk.isAux);
    if (bad) return bad;
    if (txc.modes & ADJ_SETOFFSET) {
      const delta = { sec: txc.time.sec, nsec: txc.modes & ADJ_NANO ? txc.time.usec : txc.time.usec * 1000n };
      const r = this.injectOffset(tk, delta);
      if (r) return r;
      republish();
    }
    const now = tk.isAux ? tk.auxTime() : tk.realtime();
    const tai = { value: tk.taiOffset };
    const result = tk.ntp.adjtimex(txc, now, tai);
    if (tai.value !== tk.taiOffset) {
      tk.taiOffset = tai.value;
      republish();
    }
    // A new frequency takes effect at once, not at the next tick.
    if (txc.modes & (ADJ_FREQUENCY | ADJ_TICK)) {
      tk.advance("freq");
      republish();
    }
    return result;
  }

  /** `adjtimex(2)` on the system clock. */
  adjtimex(txc: Timex): number {
    return this.doAdjtimex(this.core, txc, () => this.publish());
  }

  /** `clock_adjtime(2)`: REALTIME or an aux clock. */
  clockAdjtime(clock: number, txc: Timex): number {
    if (clock === CLOCK_REALTIME) return this.adjtimex(txc);
    const aux = this.auxOf(clock);
    if (!aux) return -EINVAL;
    if (!aux.valid) return -ENODEV;
    return this.doAdjtimex(aux.tk, txc, () => this.publishAux(clock - CLOCK_AUX));
  }

  /** The system slept `ns`: REALTIME and BOOTTIME jump, MONOTONIC does not. */
  suspend(ns: bigint): number {
    if (ns < 0n) return -EINVAL;
    const tk = this.core;
    tk.forwardNow();
    const delta = nsToTs(ns);
    tk.addXtime(delta);
    tk.wallToMonotonic = tsSub(tk.wallToMonotonic, delta);
    tk.offsBoot += ns;
    this.publish();
    return 0;
  }

  /** `/sys/kernel/time/aux_clocks/<n>/aux_clock_enable`. */
  auxClockEnable(idx: number, enable: boolean): number {
    if (!Number.isInteger(idx) || idx < 0 || idx >= MAX_AUX_CLOCKS) return -EINVAL;
    const aux = this.aux[idx];
    if (enable && !aux.valid) aux.tk = new Timekeeper(this.core.cs, true); // time starts at 0
    aux.valid = enable;
    this.publishAux(idx);
    return 0;
  }

  /** A new time namespace; ERANGE if an offset would put its clocks out of range. */
  createTimeNamespace(offsets: { monotonic?: Timespec; boottime?: Timespec } = {}, auxClocks = true): TimeNamespace | number {
    const mono = offsets.monotonic ?? { sec: 0n, nsec: 0n };
    const boot = offsets.boottime ?? { sec: 0n, nsec: 0n };
    for (const [o, now] of [[mono, this.core.monotonic()], [boot, this.core.boottime()]] as const) {
      if (!tsValid({ sec: 0n, nsec: normalize(o.sec, o.nsec).nsec })) return -EINVAL;
      const t = tsAdd(now, o);
      if (t.sec < 0n || t.sec > (1n << 62n) / NSEC_PER_SEC) return -ERANGE;
    }
    return createTimeNamespace(this.store, mono, boot, auxClocks);
  }
}
