/**
 * The kernel side, wired together: a clocksource, the core timekeeper, eight
 * aux clocks, time namespaces, the rng page and the syscalls behind the
 * vDSO's fallback. It writes a data store; readers (anywhere) read it.
 *
 * Longer than ~350 lines on purpose: it is the kernel's whole call surface,
 * one short method per syscall (Linux spreads them over time.c, timekeeping.c,
 * ntp.c and posix-timers.c); the arithmetic lives in the modules beside it.
 */
import {
  CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_REALTIME, EFAULT, EINVAL, ENODEV, ENOSPC, EOPNOTSUPP, ERANGE, MAX_AUX_CLOCKS, NO_PAGE,
  vdso_arch_data, vdso_clock_mode, writer_state,
} from "../../assembly/layout.ts";
import { type PageState, writerInfo } from "../pageclock.ts";
import { busyBlock, checkSameCounter, continueFrom, goneFor, Heartbeat, priorState, releaseClaim, repairShadow, settle, STALE_AFTER_MS, winStore, writerOf } from "./adopt.ts";
import { archPage, DataStore, StoreAdoptedError, storeMemory, type View } from "../datastore.ts";
import { canShare } from "../workers/spawn.ts";
import { checkHz, checkOptions, type KernelOptions } from "./options.ts";

export type { CounterMode, KernelOptions } from "./options.ts";
import { type Clocksource, hostClocksource, SharedCounterClocksource, VirtualClocksource } from "./clocksource.ts";
import { prepareAdjtimex } from "./adjtime.ts";
import { clockGetres, clockGettime, CLOCKS_WITHOUT_ADJ, isClockId } from "./syscalls.ts";
import { putBack, type Timex, timex, type TimexInput, writeTimex } from "./timex.ts";
import { RngPage } from "./random.ts";
import { Timekeeper } from "./timekeeper.ts";
import { createTimeNamespace, type TimeNamespace } from "./timens.ts";
import {
  int, KTIME_SEC_MAX, normalize, NSEC_PER_SEC, nsToTs, S64_MAX, s64, type Timespec, timespec, type TimespecInput, tsAdd, tsCompare, tsSub,
  tsToNs, tsValidSettod, tsValidStrict,
} from "../time.ts";
import { closePage, publishShadow, updateVsyscall, updateVsyscallTz, vdsoTimeUpdateAux } from "./vsyscall.ts";

/** An aux clock: its own timekeeper on the core's clocksource, and whether it is enabled. */
export interface AuxClock {
  tk: Timekeeper;
  valid: boolean;
}

const maxZero = (x: bigint) => (x > 0n ? x : 0n);

/** The host's wall clock `agoNs` before now, as a timespec (from whole milliseconds). */
function wallClock(agoNs: bigint): Timespec {
  const now = Date.now();
  return normalize(BigInt(Math.floor(now / 1000)), BigInt(now % 1000) * 1_000_000n - agoNs);
}

export class Kernel {
  readonly store: DataStore;
  readonly core: Timekeeper;
  readonly aux: AuxClock[];
  readonly rng: RngPage;
  tz = { minuteswest: 0, dsttime: 0 };
  /**
   * Called once when another kernel adopts this kernel's store (it was
   * silent too long, or closed and still in use): from then on this kernel
   * never writes the store again, and every call but `close()` throws.
   */
  onFenced?: (why: Error) => void;
  private ticker?: ReturnType<typeof setInterval>;
  private closed = false;
  /** Set while adjtimex writes its read-back into the caller's object (its setters may call back in). */
  private writingBack = false;
  /** The claim moved on: the store is another kernel's. */
  private fenced = false;
  private readonly host = hostClocksource();

  private constructor(
    readonly cs: Clocksource,
    store: DataStore,
    given: Timespec | undefined,
    private readonly heart: Heartbeat,
    prior?: { st: PageState; lead: bigint },
  ) {
    this.store = store;
    this.core = new Timekeeper(cs);
    // The host's wall clock at the counter reading the timekeeper starts from
    // (not sampled before attach: a ticker takes ~100 ms to start, and
    // REALTIME stayed behind by that for good). A shared counter's word lags
    // the host's clock by up to a ticker period (more on a busy host): the
    // wall clock is taken back by as much, so no read runs ahead of it.
    const lag = cs.vdsoClockMode === vdso_clock_mode.SHARED_COUNTER ? maxZero(this.host.read() - this.core.mono.cycleLast) : 0n;
    const realtime = given ?? wallClock(lag);
    this.core.setXtime(realtime);
    // At boot monotonic starts at 0: wall_to_monotonic = -realtime.
    this.core.wallToMonotonic = normalize(-realtime.sec, -realtime.nsec);
    this.aux = Array.from({ length: MAX_AUX_CLOCKS }, () => ({ tk: new Timekeeper(cs, true), valid: false }));
    if (prior) {
      const freqs = Array.from({ length: 1 + MAX_AUX_CLOCKS }, (_, i) => BigInt.asIntN(64, store.getU64(store.arch + vdso_arch_data.ntp_freq + 8 * i)));
      continueFrom(prior.st, this.core, this.aux, prior.lead, freqs);
      this.tz = prior.st.tz;
      updateVsyscallTz(this.store, this.tz.minuteswest, this.tz.dsttime);
    }
    this.rng = new RngPage(this.store);
    this.rng.init();
    this.publishAll();
    this.owned();
    this.store.storeU32Atomic(this.store.arch + vdso_arch_data.state, writer_state.RUNNING);
    this.heart.beat();
    this.heart.onFenced = () => this.fence();
    // Between our publications no seq of ours is odd: one that is was left so by someone else
    // (a fenced writer's last begin, a stray store). Every clock again, so no reader waits on it.
    this.heart.onBeat = () => {
      if (busyBlock(this.store.memory)) this.publishAll();
    };
  }

  /** Every clock and the shadow copy, as they stand. */
  private publishAll(): void {
    updateVsyscall(this.store, this.core);
    for (let i = 0; i < MAX_AUX_CLOCKS; i++) vdsoTimeUpdateAux(this.store, i, this.aux[i].tk, this.aux[i].valid);
    publishShadow(this.store);
  }

  /** A kernel; every option is checked before anything is made (TypeError/RangeError naming it). */
  static async create(options: KernelOptions = {}): Promise<Kernel> {
    const opts = checkOptions(options); // each option read once
    const realtime = opts.realtime === undefined ? undefined : timespec(opts.realtime, "realtime");
    if (realtime && !tsValidSettod(realtime)) throw new RangeError(`wasm-vdso: realtime ${realtime.sec}.${realtime.nsec} is not a valid time to set`);
    const mode = opts.counter ?? (canShare() ? "shared" : "host-call");
    const cs =
      opts.clocksource ??
      (mode === "virtual" ? new VirtualClocksource() : mode === "shared" ? new SharedCounterClocksource(opts.tickerPeriodNs) : hostClocksource());
    // A ticker worker needs the store in shared memory.
    const m = opts.memory ?? (mode === "shared" && !opts.clocksource && canShare());
    const memory = m instanceof WebAssembly.Memory ? m : storeMemory(m);
    const staleMs = opts.adoptAfterMs ?? STALE_AFTER_MS;
    const adopting = opts.adopt === true && writerOf(memory, staleMs) !== "none";
    // A closed store's writer finished (it closes every block before the state), and stays closed until a CAS: no block to wait for.
    if (adopting) checkSameCounter(memory, cs.vdsoClockMode);
    const closed = adopting && writerInfo(memory, archPage()).state === writer_state.CLOSED;
    const token = adopting ? winStore(memory, staleMs) : 0;
    // A new store is claimed here (or refused, nothing written).
    const store = new DataStore(memory, undefined, adopting ? "adopt" : "claim", token);
    // From here the claim is ours: a live writer's heartbeat, and a failure gives the claim back.
    const heart = new Heartbeat(store);
    const ours = () => {
      if (store.fenced()) throw new StoreAdoptedError(); // after each wait: another kernel may have taken it meanwhile
    };
    let attached = false;
    try {
      heart.start();
      if (adopting && !closed) await settle(memory);
      ours();
      if (adopting) repairShadow(store);
      const st = adopting ? priorState(memory, store.time, store.arch) : undefined;
      // The counter the old state is read at: the old word, carried forward while its writer was gone (virtual).
      const oldCounter = store.loadU64Atomic(store.arch + vdso_arch_data.counter) + (st ? goneFor(memory, store.arch) : 0n);
      if (st && cs instanceof VirtualClocksource && !opts.clocksource) cs.counter = store.loadU64Atomic(store.arch + vdso_arch_data.counter);
      attached = true;
      await cs.attach?.(store);
      ours();
      // Where the new counter stands against the one the old state was carried
      // forward with: a shared ticker's word lags the host's clock; a virtual
      // counter (ours continues the old word, a caller's may start anywhere)
      // continues from the old word plus the time its writer was gone.
      const lead =
        cs.vdsoClockMode === vdso_clock_mode.SHARED_COUNTER ? maxZero(hostClocksource().read() - cs.read())
        : cs.vdsoClockMode === vdso_clock_mode.VIRTUAL ? oldCounter - cs.read()
        : 0n;
      return new Kernel(cs, store, realtime, heart, st ? { st, lead } : undefined);
    } catch (e) {
      heart.stop();
      if (attached) (cs as Clocksource).close?.(); // a ticker it started stops
      releaseClaim(store, adopting);
      throw e;
    }
  }

  /** The memory holding the data store: hand it to readers in other threads. */
  get memory(): WebAssembly.Memory {
    return this.store.memory;
  }

  /**
   * Stops ticking and marks the store closed: every clock of the page takes
   * the fallback from now on (seq left odd, mode TIMENS, as a namespace page
   * with no real page), so readers carry the last state forward with the
   * host's clock instead of reading frozen time. The syscalls (`sys*`) keep
   * answering; the methods that change time throw. A closed store can be
   * adopted by a new kernel.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTicking();
    this.heart.stop();
    try {
      if (!this.fenced && !this.store.fenced()) closePage(this.store);
    } catch (e) {
      if (!(e instanceof StoreAdoptedError)) throw e; // adopted as it closed: the adopter's store now
    }
    this.cs.close?.();
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Throws if the kernel was closed (time is then only read, never changed),
   * or its store adopted, or if this is a call from inside an adjtimex
   * read-back (a setter of its timex calling back in would change what that
   * call already checked). A method that converts a caller's object asks
   * again after converting it, before its first write: a getter may have
   * closed the kernel.
   */
  private live(): void {
    if (this.closed) throw new Error("wasm-vdso: this kernel is closed");
    if (this.writingBack) throw new Error("wasm-vdso: a kernel call from inside adjtimex's read-back (a setter of its timex)");
    this.owned();
  }

  /** Throws (once and for all) if another kernel adopted the store: the claim is checked on every call, one load. */
  private owned(): void {
    if (!this.fenced && !this.store.fenced()) return;
    this.fence();
    throw new StoreAdoptedError();
  }

  /** The store is another kernel's: stop every timer (and our counter's ticker, which fences itself too), write nothing more, tell the owner. */
  private fence(): void {
    if (this.fenced) return;
    this.fenced = true;
    this.stopTicking();
    this.heart.stop();
    this.cs.close?.();
    this.onFenced?.(new StoreAdoptedError());
  }

  /** The view of a task in the root time namespace (a namespace's is `ns.view`). */
  rootView(): View {
    return this.store.rootView();
  }

  /** `update_vsyscall` for the core timekeeper (and the shadow copy after it). */
  publish(): void {
    this.live();
    updateVsyscall(this.store, this.core);
    publishShadow(this.store);
  }

  private publishAux(idx: number): void {
    vdsoTimeUpdateAux(this.store, idx, this.aux[idx].tk, this.aux[idx].valid);
    publishShadow(this.store);
  }

  /** The periodic tick: accumulate elapsed time into every timekeeper and publish. */
  tick(): void {
    this.live();
    this.heart.beat();
    this.cs.onTick?.();
    let published = false;
    if (this.core.advance("tick")) {
      updateVsyscall(this.store, this.core);
      published = true;
    }
    for (let i = 0; i < this.aux.length; i++) {
      const a = this.aux[i];
      if (a.valid && a.tk.advance("tick")) {
        vdsoTimeUpdateAux(this.store, i, a.tk, true);
        published = true;
      }
    }
    if (published) publishShadow(this.store); // one copy a tick, after every clock
  }

  /** Ticks from a host timer at `hz` (the timekeeper's own HZ stays 250; a late tick just accumulates more). */
  startTicking(hz = 250): void {
    this.live();
    checkHz(hz);
    this.stopTicking();
    this.ticker = setInterval(() => {
      try {
        this.tick();
      } catch (e) {
        if (!(e instanceof StoreAdoptedError)) throw e; // fenced: the timers stopped, onFenced told the owner
      }
    }, 1000 / hz);
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
    this.owned();
    return clockGettime(this, clock, ns);
  }

  /** The clock_getres syscall: the resolution this emulator delivers. */
  sysClockGetres(clock: number): Timespec | number {
    this.owned();
    return clockGetres(this, clock);
  }

  /** The gettimeofday syscall: REALTIME in microseconds and the timezone. */
  sysGettimeofday(): { sec: bigint; usec: bigint; minuteswest: number; dsttime: number } {
    this.owned();
    const t = this.core.realtime();
    return { sec: t.sec, usec: t.nsec / 1000n, minuteswest: this.tz.minuteswest, dsttime: this.tz.dsttime };
  }

  /**
   * `clock_settime`: REALTIME (moves REALTIME and TAI) or an aux clock; any
   * other id is -EINVAL (no clock_set), checked before the time is read.
   */
  clockSettime(clock: number, tp: TimespecInput): number {
    this.live();
    if (!isClockId(clock) || (clock !== CLOCK_REALTIME && !this.auxOf(clock))) return -EINVAL;
    const t = timespec(tp, "tp");
    this.live();
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
    this.live();
    const t = tv == null ? null : timespec(tv, "tv");
    let zone: { minuteswest: number; dsttime: number } | null = null;
    if (tz != null) {
      if (typeof tz !== "object") throw new TypeError(`wasm-vdso: tz must be { minuteswest, dsttime }, not ${typeof tz}`);
      zone = { minuteswest: int(tz.minuteswest, "tz.minuteswest"), dsttime: int(tz.dsttime, "tz.dsttime") };
    }
    this.live();
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
      if (!t) publishShadow(this.store);
    }
    return t ? this.doSettimeofday(t, now) : 0;
  }

  /**
   * `adjtimex(2)` on the system clock. `txc` is any object: its fields are
   * converted first (C `long` fields: bigint or safe integer; missing: 0; else
   * a TypeError/RangeError naming the field); on success the read-back is
   * written into it (bigint for `long` fields), on a refusal it is untouched.
   * An object that will not take the read-back (frozen, a setter or Proxy
   * trap that throws) is -EFAULT, before anything changes.
   */
  adjtimex(txc: TimexInput): number {
    this.live();
    const k = timex(txc);
    this.live();
    return this.adjust(this.core, txc, k, () => this.publish());
  }

  /**
   * `clock_adjtime(2)`: REALTIME or an enabled aux clock. An id that is no
   * clock is -EINVAL, a clock without clock_adj -EOPNOTSUPP, a disabled aux
   * clock -ENODEV.
   */
  clockAdjtime(clock: number, txc: TimexInput): number {
    this.live();
    const k = timex(txc); // copy_from_user comes first in Linux too
    this.live();
    if (!isClockId(clock)) return -EINVAL;
    if (clock === CLOCK_REALTIME) return this.adjust(this.core, txc, k, () => this.publish());
    const aux = this.auxOf(clock);
    if (!aux) return CLOCKS_WITHOUT_ADJ.has(clock) ? -EOPNOTSUPP : -EINVAL;
    if (!aux.valid) return -ENODEV;
    return this.adjust(aux.tk, txc, k, () => this.publishAux(clock - CLOCK_AUX));
  }

  /**
   * `do_adjtimex` on `tk` for the caller's `txc` (converted: `k`): every check,
   * then the read-back written into `txc` (-EFAULT if it will not take it),
   * then the change. A setter that closed the kernel stops the call there,
   * with `txc` put back.
   */
  private adjust(tk: Timekeeper, txc: object, k: Timex, republish: () => void): number {
    const p = prepareAdjtimex(tk, k);
    if (typeof p === "number") return p;
    const undo: (() => void)[] = [];
    this.writingBack = true;
    let wrote: boolean;
    try {
      wrote = writeTimex(txc, k, undo);
    } finally {
      this.writingBack = false;
    }
    if (!wrote) return -EFAULT;
    if (this.closed) {
      putBack(undo);
      this.live();
    }
    p.commit(republish);
    this.recordFreq();
    return p.result;
  }

  /** NTP's frequencies in the arch page, so a kernel adopting this store keeps steering at them. */
  private recordFreq(): void {
    [this.core, ...this.aux.map((a) => a.tk)].forEach((tk, i) => this.store.setU64(this.store.arch + vdso_arch_data.ntp_freq + 8 * i, tk.ntp.timeFreq));
  }

  /**
   * The system slept `ns` (a bigint or a safe integer): REALTIME and BOOTTIME
   * jump, MONOTONIC does not. -EINVAL for a negative sleep, one that is no
   * valid timespec within ktime (`__timekeeping_inject_sleeptime`), or one that
   * would take REALTIME or BOOTTIME past TIME_SETTOD_SEC_MAX.
   */
  suspend(ns: bigint | number): number {
    this.live();
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
    this.live();
    if (typeof enable !== "boolean") throw new TypeError(`wasm-vdso: enable must be a boolean, not ${typeof enable}`);
    if (typeof idx !== "number" || !Number.isInteger(idx) || idx < 0 || idx >= MAX_AUX_CLOCKS) return -EINVAL;
    const aux = this.aux[idx];
    if (enable && !aux.valid) aux.tk = new Timekeeper(this.core.cs, true); // time starts at 0
    aux.valid = enable;
    this.publishAux(idx);
    this.recordFreq(); // a re-enabled clock starts at frequency 0
    return 0;
  }

  /**
   * A new time namespace (`proc_timens_set_offset`'s checks): -EINVAL for an
   * offset whose nsec is outside [0, 1e9); -ERANGE for one whose sec is beyond
   * KTIME_SEC_MAX or that would put its clock below 0 or above
   * KTIME_SEC_MAX / 2; -ENOSPC when the store has no page left.
   */
  createTimeNamespace(offsets: { monotonic?: TimespecInput; boottime?: TimespecInput } = {}, auxClocks = true): TimeNamespace | number {
    this.live();
    if (offsets === null || typeof offsets !== "object") throw new TypeError(`wasm-vdso: offsets must be { monotonic?, boottime? }, not ${offsets === null ? "null" : typeof offsets}`);
    if (typeof auxClocks !== "boolean") throw new TypeError(`wasm-vdso: auxClocks must be a boolean, not ${typeof auxClocks}`);
    const zero = { sec: 0n, nsec: 0n };
    const { monotonic, boottime } = offsets; // each getter once
    const mono = monotonic === undefined ? zero : timespec(monotonic, "offsets.monotonic");
    const boot = boottime === undefined ? zero : timespec(boottime, "offsets.boottime");
    this.live();
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
