/**
 * The kernel side, wired together: a clocksource, the core timekeeper, eight
 * aux clocks, time namespaces, the rng page, the syscalls behind the vDSO's
 * fallback, and the wasm vDSO reading what they publish.
 */
import {
  CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE,
  CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, EINVAL, ENODEV, LOW_RES_NSEC, MAX_AUX_CLOCKS,
} from "../../assembly/layout.ts";
import { DataStore } from "../datastore.ts";
import { type Build, type ClockResult, sharedMemory, type Syscalls, type Timespec, Vdso } from "../wasm.ts";
import { canShare } from "../workers/spawn.ts";
import { type Clocksource, hostClocksource, SharedCounterClocksource, VirtualClocksource } from "./clocksource.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, ADJ_TICK, type Timex, validateTimex } from "./ntp.ts";
import { RngPage } from "./random.ts";
import { Timekeeper } from "./timekeeper.ts";
import { createTimeNamespace, type TimeNamespace } from "./timens.ts";
import {
  normalize, NSEC_PER_SEC, nsToTs, type Timespec64, tsAdd, tsCompare, tsSub, tsToNs, tsValid, tsValidSettod,
} from "./time.ts";
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
  /** Put the data store in this shared memory, or in a new one if true (needed by other threads' readers). */
  memory?: WebAssembly.Memory | boolean;
  /** Any clocksource (e.g. a VirtualClocksource to drive). */
  clocksource?: Clocksource;
  /** CLOCK_REALTIME at start; default the host's wall clock. */
  realtime?: Timespec64;
  /** Which wasm build reads the pages. */
  build?: Build;
}

/** An aux clock: its own timekeeper on the core's clocksource, and whether it is enabled. */
export interface AuxClock {
  tk: Timekeeper;
  valid: boolean;
}

/** Where the vDSO falls back, the kernel answers, for the task's namespace. */
class KernelSyscalls implements Syscalls {
  constructor(private k: Kernel) {}
  clock_gettime(clock: number) {
    const t = this.k.sysClockGettime(clock);
    return typeof t === "number" ? t : toTimespec(t);
  }
  clock_getres(clock: number) {
    const r = this.k.sysClockGetres(clock);
    return typeof r === "number" ? r : toTimespec(r);
  }
  gettimeofday() {
    const t = this.k.core.realtime();
    return { sec: t.sec, usec: Number(t.nsec / 1000n), minuteswest: this.k.tz.minuteswest, dsttime: this.k.tz.dsttime };
  }
}

const toTimespec = (t: Timespec64): Timespec => ({ sec: t.sec, nsec: Number(t.nsec) });

/** CPU time of this process, where the host can tell (Node); else undefined. */
function processCpuTime(): Timespec64 | undefined {
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
  /** The time namespace of the task the vDSO reads for (null: the root namespace). */
  task: TimeNamespace | null = null;
  private ticker?: ReturnType<typeof setInterval>;

  private constructor(
    readonly vdso: Vdso,
    readonly cs: Clocksource,
    store: DataStore,
    realtime: Timespec64,
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
    vdso.bind(this.store.rootView());
  }

  static async create(opts: KernelOptions = {}): Promise<Kernel> {
    const mode = opts.counter ?? (canShare() ? "shared" : "host-call");
    const cs =
      opts.clocksource ??
      (mode === "virtual" ? new VirtualClocksource() : mode === "shared" ? new SharedCounterClocksource(opts.tickerPeriodNs) : hostClocksource());
    // A ticker worker needs the store in shared memory.
    const wantShared = opts.memory !== undefined && opts.memory !== false ? opts.memory : mode === "shared" && !opts.clocksource && canShare();
    const memory = wantShared === true ? sharedMemory() : wantShared || undefined;
    let self: Kernel | undefined;
    const syscalls: Syscalls = {
      clock_gettime: (c) => self!.syscalls.clock_gettime(c),
      clock_getres: (c) => self!.syscalls.clock_getres(c),
      gettimeofday: () => self!.syscalls.gettimeofday(),
    };
    const vdso = await Vdso.create({ counter: cs.read.bind(cs), syscalls, build: opts.build, memory });
    const store = new DataStore(vdso.memory);
    await cs.attach?.(store);
    const now = Date.now();
    const realtime = opts.realtime ?? { sec: BigInt(Math.floor(now / 1000)), nsec: BigInt(now % 1000) * 1_000_000n };
    self = new Kernel(vdso, cs, store, realtime);
    return self;
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

  readonly syscalls: Syscalls = new KernelSyscalls(this);

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

  /** Binds the wasm reader to a task in `ns` (null: the root namespace). */
  enter(ns: TimeNamespace | null): void {
    this.task = ns;
    this.vdso.bind(ns ? ns.view : this.store.rootView());
  }

  /** clock_gettime through the wasm vDSO. */
  clockGettime(clock: number): ClockResult {
    return this.vdso.clockGettime(clock);
  }

  // ---- syscalls (the kernel's own answers) ----

  private nsMono(t: Timespec64): Timespec64 {
    return this.task ? tsAdd(t, this.task.monotonic) : t;
  }
  private nsBoot(t: Timespec64): Timespec64 {
    return this.task ? tsAdd(t, this.task.boottime) : t;
  }

  private auxOf(clock: number): AuxClock | undefined {
    return clock >= CLOCK_AUX && clock <= CLOCK_AUX_LAST ? this.aux[clock - CLOCK_AUX] : undefined;
  }

  /** The clock_gettime syscall: a time, or a negated errno. */
  sysClockGettime(clock: number): Timespec64 | number {
    const tk = this.core;
    switch (clock) {
      case CLOCK_REALTIME:
      case CLOCK_REALTIME_ALARM:
        return tk.realtime();
      case CLOCK_MONOTONIC:
        return this.nsMono(tk.monotonic());
      case CLOCK_MONOTONIC_RAW:
        return this.nsMono(tk.monotonicRaw());
      case CLOCK_REALTIME_COARSE:
        return tk.realtimeCoarse();
      case CLOCK_MONOTONIC_COARSE:
        return this.nsMono(tk.monotonicCoarse());
      case CLOCK_BOOTTIME:
      case CLOCK_BOOTTIME_ALARM:
        return this.nsBoot(tk.boottime());
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

  /** The clock_getres syscall: the resolution this emulator delivers. */
  sysClockGetres(clock: number): Timespec64 | number {
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
  clockSettime(clock: number, t: Timespec64): number {
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
  private doSettimeofday(t: Timespec64): number {
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
  settimeofday(tv: Timespec64 | null, tz: { minuteswest: number; dsttime: number } | null): number {
    if (tz && (!Number.isInteger(tz.minuteswest) || tz.minuteswest > 15 * 60 || tz.minuteswest < -15 * 60)) return -EINVAL;
    if (tv && (tv.nsec < 0n || tv.nsec >= NSEC_PER_SEC)) return -EINVAL;
    if (tz) {
      this.tz = { minuteswest: tz.minuteswest, dsttime: tz.dsttime };
      updateVsyscallTz(this.store, tz.minuteswest, tz.dsttime);
    }
    return tv ? this.doSettimeofday(tv) : 0;
  }

  /** `timekeeping_inject_offset` for the core (REALTIME and TAI move, MONOTONIC does not). */
  private injectOffset(tk: Timekeeper, delta: Timespec64): number {
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
  createTimeNamespace(offsets: { monotonic?: Timespec64; boottime?: Timespec64 } = {}, auxClocks = true): TimeNamespace | number {
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
