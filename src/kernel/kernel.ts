/**
 * The kernel side, wired together: a clocksource, the core timekeeper, eight
 * aux clocks, time namespaces, the rng page and the syscalls behind the
 * vDSO's fallback. It writes a data store; readers (anywhere) read it.
 */
import {
  CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_REALTIME, EINVAL, ENODEV, ENOSPC, EOPNOTSUPP, ERANGE, MAX_AUX_CLOCKS, NO_PAGE,
} from "../../assembly/layout.ts";
import { DataStore, storeMemory, type View } from "../datastore.ts";
import { canShare } from "../workers/spawn.ts";
import { type Clocksource, hostClocksource, SharedCounterClocksource, VirtualClocksource } from "./clocksource.ts";
import { doAdjtimex, writeTimex } from "./adjtime.ts";
import { clockGetres, clockGettime, CLOCKS_WITHOUT_ADJ, isClockId } from "./syscalls.ts";
import { timex, type TimexInput } from "./timex.ts";
import { RngPage } from "./random.ts";
import { Timekeeper } from "./timekeeper.ts";
import { createTimeNamespace, type TimeNamespace } from "./timens.ts";
import {
  int, KTIME_SEC_MAX, normalize, NSEC_PER_SEC, nsToTs, S64_MAX, s64, type Timespec, timespec, type TimespecInput, tsAdd, tsCompare, tsSub,
  tsToNs, tsValidSettod, tsValidStrict,
} from "../time.ts";
import { updateVsyscall, updateVsyscallTz, vdsoTimeUpdateAux } from "./vsyscall.ts";

const COUNTER_MODES: readonly string[] = ["host-call", "shared", "virtual"];

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

  /** A kernel; every option is checked before anything is made (TypeError/RangeError naming it). */
  static async create(opts: KernelOptions = {}): Promise<Kernel> {
    if (opts === null || typeof opts !== "object") throw new TypeError(`wasm-vdso: options must be an object, not ${opts === null ? "null" : typeof opts}`);
    if (opts.counter !== undefined && !COUNTER_MODES.includes(opts.counter)) {
      throw new TypeError(`wasm-vdso: counter must be one of ${COUNTER_MODES.map((m) => JSON.stringify(m)).join(", ")}, not ${typeof opts.counter === "string" ? JSON.stringify(opts.counter) : typeof opts.counter}`);
    }
    if (opts.tickerPeriodNs !== undefined) {
      if (typeof opts.tickerPeriodNs !== "number") throw new TypeError(`wasm-vdso: tickerPeriodNs must be a number, not ${typeof opts.tickerPeriodNs}`);
      if (!Number.isSafeInteger(opts.tickerPeriodNs) || opts.tickerPeriodNs < 0) {
        throw new RangeError(`wasm-vdso: tickerPeriodNs must be a non-negative integer, not ${opts.tickerPeriodNs}`);
      }
    }
    if (opts.memory !== undefined && typeof opts.memory !== "boolean" && !(opts.memory instanceof WebAssembly.Memory)) {
      throw new TypeError("wasm-vdso: memory must be a WebAssembly.Memory or a boolean");
    }
    if (opts.clocksource !== undefined && (opts.clocksource === null || typeof opts.clocksource.read !== "function")) {
      throw new TypeError("wasm-vdso: clocksource must be a Clocksource");
    }
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
    if (typeof hz !== "number" || !(hz > 0 && hz <= 10_000)) throw new RangeError(`wasm-vdso: hz must be a number in (0, 10000], not ${typeof hz === "number" ? hz : typeof hz}`);
    this.stopTicking();
    this.ticker = setInterval(() => this.tick(), 1000 / hz);
  }

  stopTicking(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  // ---- syscalls (the kernel's own answers), for a task in `ns` (null: the root namespace) ----

  /** Aux clock `clock` (CLOCK_AUX + n), if it is one. */
  auxOf(clock: number): AuxClock | undefined {
    return clock >= CLOCK_AUX && clock <= CLOCK_AUX_LAST ? this.aux[clock - CLOCK_AUX] : undefined;
  }

  /** The clock_gettime syscall of a task in `ns` (null: the root namespace): a time, or a negated errno. */
  sysClockGettime(clock: number, ns: TimeNamespace | null = null): Timespec | number {
    return clockGettime(this, clock, ns);
  }

  /** The clock_getres syscall: the resolution this emulator delivers. */
  sysClockGetres(clock: number): Timespec | number {
    return clockGetres(this, clock);
  }

  /** The gettimeofday syscall: REALTIME in microseconds and the timezone. */
  sysGettimeofday(): { sec: bigint; usec: bigint; minuteswest: number; dsttime: number } {
    const t = this.core.realtime();
    return { sec: t.sec, usec: t.nsec / 1000n, minuteswest: this.tz.minuteswest, dsttime: this.tz.dsttime };
  }

  /**
   * `clock_settime`: REALTIME (moves REALTIME and TAI) or an aux clock; any
   * other id is -EINVAL (no clock_set), checked before the time is read.
   */
  clockSettime(clock: number, tp: TimespecInput): number {
    if (!isClockId(clock) || (clock !== CLOCK_REALTIME && !this.auxOf(clock))) return -EINVAL;
    const t = timespec(tp, "tp");
    if (clock === CLOCK_REALTIME) return this.doSettimeofday(t);
    // `aux_clock_set`
    const aux = this.auxOf(clock)!;
    if (!tsValidSettod(t)) return -EINVAL;
    if (!aux.valid) return -ENODEV;
    const now = aux.tk.cs.read();
    aux.tk.forwardNow(now);
    aux.tk.offsAux = tsToNs(t) - tsToNs(aux.tk.xtime(now));
    this.publishAux(clock - CLOCK_AUX);
    return 0;
  }

  /** `do_settimeofday64`'s checks at counter `now`: 0 or -EINVAL. */
  private checkSettimeofday(t: Timespec, now: bigint): number {
    if (!tsValidSettod(t)) return -EINVAL;
    const tk = this.core;
    // REALTIME may not be set before the moment monotonic time began.
    return tsCompare(tk.wallToMonotonic, tsSub(t, tk.xtime(now))) > 0 ? -EINVAL : 0;
  }

  /** `do_settimeofday64`: checks, then sets. */
  private doSettimeofday(t: Timespec, now = this.core.cs.read()): number {
    const bad = this.checkSettimeofday(t, now);
    if (bad) return bad;
    const tk = this.core;
    tk.forwardNow(now);
    const delta = tsSub(t, tk.xtime(now));
    tk.wallToMonotonic = tsSub(tk.wallToMonotonic, delta);
    tk.setXtime(t);
    this.publish();
    return 0;
  }

  /**
   * `settimeofday(tv, tz)`: either may be null. Every check (tv, then tz's
   * range, then tv against boot time) comes before tz or time change: a
   * refused call changes neither (Linux would already have set tz when
   * do_settimeofday64 refuses a time before boot).
   */
  settimeofday(tv: TimespecInput | null | undefined, tz: { minuteswest: number; dsttime: number } | null | undefined): number {
    const t = tv == null ? null : timespec(tv, "tv");
    let zone: { minuteswest: number; dsttime: number } | null = null;
    if (tz != null) {
      if (typeof tz !== "object") throw new TypeError(`wasm-vdso: tz must be { minuteswest, dsttime }, not ${typeof tz}`);
      zone = { minuteswest: int(tz.minuteswest, "tz.minuteswest"), dsttime: int(tz.dsttime, "tz.dsttime") };
    }
    if (t && !tsValidSettod(t)) return -EINVAL;
    if (zone && (zone.minuteswest > 15 * 60 || zone.minuteswest < -15 * 60)) return -EINVAL;
    const now = this.core.cs.read();
    if (t) {
      const bad = this.checkSettimeofday(t, now);
      if (bad) return bad;
    }
    if (zone) {
      this.tz = zone;
      updateVsyscallTz(this.store, zone.minuteswest, zone.dsttime);
    }
    return t ? this.doSettimeofday(t, now) : 0;
  }

  /**
   * `adjtimex(2)` on the system clock. `txc` is any object: its fields are
   * converted first (C `long` fields: bigint or safe integer; missing: 0; else
   * a TypeError/RangeError naming the field); on success the read-back is
   * written into it (bigint for `long` fields), on a refusal it is untouched.
   */
  adjtimex(txc: TimexInput): number {
    const k = timex(txc);
    const r = doAdjtimex(this.core, k, () => this.publish());
    if (r >= 0) writeTimex(txc, k);
    return r;
  }

  /**
   * `clock_adjtime(2)`: REALTIME or an enabled aux clock. An id that is no
   * clock is -EINVAL, a clock without clock_adj -EOPNOTSUPP, a disabled aux
   * clock -ENODEV.
   */
  clockAdjtime(clock: number, txc: TimexInput): number {
    const k = timex(txc); // copy_from_user comes first in Linux too
    if (!isClockId(clock)) return -EINVAL;
    let r: number;
    if (clock === CLOCK_REALTIME) {
      r = doAdjtimex(this.core, k, () => this.publish());
    } else {
      const aux = this.auxOf(clock);
      if (!aux) return CLOCKS_WITHOUT_ADJ.has(clock) ? -EOPNOTSUPP : -EINVAL;
      if (!aux.valid) return -ENODEV;
      r = doAdjtimex(aux.tk, k, () => this.publishAux(clock - CLOCK_AUX));
    }
    if (r >= 0) writeTimex(txc, k);
    return r;
  }

  /**
   * The system slept `ns` (a bigint or a safe integer): REALTIME and BOOTTIME
   * jump, MONOTONIC does not. -EINVAL for a negative sleep, one that is no
   * valid timespec within ktime (`__timekeeping_inject_sleeptime`), or one that
   * would take REALTIME or BOOTTIME past TIME_SETTOD_SEC_MAX.
   */
  suspend(ns: bigint | number): number {
    const n = s64(ns, "ns");
    if (n < 0n) return -EINVAL;
    const delta = nsToTs(n);
    if (!tsValidStrict(delta)) return -EINVAL;
    const tk = this.core;
    const now = tk.cs.read();
    if (!tsValidSettod(tsAdd(tk.xtime(now), delta)) || !tsValidSettod(tsAdd(tk.boottime(now), delta)) || tk.offsBoot + n > S64_MAX) {
      return -EINVAL;
    }
    tk.forwardNow(now);
    tk.addXtime(delta);
    tk.wallToMonotonic = tsSub(tk.wallToMonotonic, delta);
    tk.offsBoot += n;
    this.publish();
    return 0;
  }

  /** `/sys/kernel/time/aux_clocks/<n>/aux_clock_enable`: -EINVAL for an index that is no aux clock; `enable` a boolean. */
  auxClockEnable(idx: number, enable: boolean): number {
    if (typeof enable !== "boolean") throw new TypeError(`wasm-vdso: enable must be a boolean, not ${typeof enable}`);
    if (typeof idx !== "number" || !Number.isInteger(idx) || idx < 0 || idx >= MAX_AUX_CLOCKS) return -EINVAL;
    const aux = this.aux[idx];
    if (enable && !aux.valid) aux.tk = new Timekeeper(this.core.cs, true); // time starts at 0
    aux.valid = enable;
    this.publishAux(idx);
    return 0;
  }

  /**
   * A new time namespace (`proc_timens_set_offset`'s checks): -EINVAL for an
   * offset whose nsec is outside [0, 1e9); -ERANGE for one whose sec is beyond
   * KTIME_SEC_MAX or that would put its clock below 0 or above
   * KTIME_SEC_MAX / 2; -ENOSPC when the store has no page left.
   */
  createTimeNamespace(offsets: { monotonic?: TimespecInput; boottime?: TimespecInput } = {}, auxClocks = true): TimeNamespace | number {
    if (offsets === null || typeof offsets !== "object") throw new TypeError(`wasm-vdso: offsets must be { monotonic?, boottime? }, not ${offsets === null ? "null" : typeof offsets}`);
    if (typeof auxClocks !== "boolean") throw new TypeError(`wasm-vdso: auxClocks must be a boolean, not ${typeof auxClocks}`);
    const zero = { sec: 0n, nsec: 0n };
    const mono = offsets.monotonic === undefined ? zero : timespec(offsets.monotonic, "offsets.monotonic");
    const boot = offsets.boottime === undefined ? zero : timespec(offsets.boottime, "offsets.boottime");
    for (const o of [mono, boot]) if (o.nsec < 0n || o.nsec >= NSEC_PER_SEC) return -EINVAL;
    const now = this.core.cs.read();
    for (const [o, t] of [[mono, this.core.monotonic(now)], [boot, this.core.boottime(now)]] as const) {
      if (o.sec > KTIME_SEC_MAX || o.sec < -KTIME_SEC_MAX) return -ERANGE;
      const sum = tsAdd(t, o);
      // KTIME_SEC_MAX / 2: KTIME_MAX stays out of reach.
      if (sum.sec < 0n || sum.sec > KTIME_SEC_MAX / 2n) return -ERANGE;
    }
    const page = this.store.allocPage();
    if (page === NO_PAGE) return -ENOSPC;
    return createTimeNamespace(this.store, mono, boot, auxClocks, page);
  }
}
