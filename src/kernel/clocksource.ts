/**
 * Clocksources (kernel/time/clocksource.c): a counter with a known frequency,
 * and the mult/shift that turn its cycles into nanoseconds.
 */
import { vdso_arch_data, vdso_clock_mode } from "../../assembly/layout.ts";
import type { DataStore } from "../datastore.ts";
import { NSEC_PER_SEC, s64, U64_MAX } from "../time.ts";
import { canShare, fromSource, sourceFile, spawn, type SpawnedWorker } from "../workers/spawn.ts";


export interface Clocksource {
  readonly name: string;
  /** The counter now, already masked. */
  read(): bigint;
  readonly freqHz: number;
  readonly mask: bigint;
  readonly mult: number;
  readonly shift: number;
  /** Largest mult change NTP may make (11 %). */
  readonly maxadj: number;
  /** Largest delta whose `delta * (mult + maxadj)` fits in u64. */
  readonly maxCycles: bigint;
  /** The vDSO clock mode readers use for this counter. */
  readonly vdsoClockMode: number;
  /** Called once the data store exists, before any reading (arch-page counters start here). */
  attach?(store: DataStore): Promise<void> | void;
  /** The resolution readers really get, in ns: published as hrtimer_res. Default 1. */
  resolutionNs?(): number;
  /** Called on every kernel tick (a counter kept by the tick refreshes here). */
  onTick?(): void;
  /** Stops whatever keeps the counter going. */
  close?(): void;
}

/** `clocks_calc_mult_shift`: the largest shift whose mult keeps `maxsec` of cycles within 64 bits. */
export function clocksCalcMultShift(from: bigint, to: bigint, maxsec: bigint): { mult: bigint; shift: number } {
  let sftacc = 32;
  // How many bits maxsec * from needs above 32: those are lost for the mult.
  let tmp = (maxsec * from) >> 32n;
  while (tmp) {
    tmp >>= 1n;
    sftacc--;
  }
  let sft = 32;
  for (; sft > 0; sft--) {
    tmp = ((to << BigInt(sft)) + from / 2n) / from;
    if (tmp >> BigInt(sftacc) === 0n) break;
  }
  return { mult: tmp, shift: sft };
}

/** `clocksource_max_adjustment`: 11 % of mult. */
export const clocksourceMaxAdjustment = (mult: bigint) => (mult * 11n) / 100n;

/** `clocks_calc_max_nsecs`: the max cycles (and ns) before `delta * mult` could overflow. */
export function clocksCalcMaxNsecs(mult: bigint, shift: number, maxadj: bigint, mask: bigint): { maxCycles: bigint; maxNsecs: bigint } {
  let maxCycles = U64_MAX / (mult + maxadj);
  if (maxCycles > mask) maxCycles = mask;
  return { maxCycles, maxNsecs: (maxCycles * (mult - maxadj)) >> BigInt(shift) };
}

/** `max_idle_ns` (`clocksource_update_max_deferment`): half the ns before `delta * mult` could overflow, at least 1. */
export function maxIdleNs(cs: Clocksource): bigint {
  const { maxNsecs } = clocksCalcMaxNsecs(BigInt(cs.mult), cs.shift, BigInt(cs.maxadj), cs.mask);
  const half = maxNsecs >> 1n;
  return half > 0n ? half : 1n;
}

/** `__clocksource_update_freq_scale` with scale 1: mult/shift for at most 600 s of cycles. */
export function clocksourceParams(freqHz: number, mask: bigint) {
  const freq = BigInt(freqHz);
  let sec = mask / freq;
  if (sec === 0n) sec = 1n;
  else if (sec > 600n && mask > 0xffffffffn) sec = 600n;
  let { mult, shift } = clocksCalcMultShift(freq, NSEC_PER_SEC, sec);
  let maxadj = clocksourceMaxAdjustment(mult);
  // mult +/- maxadj must not overflow u32.
  while (mult + maxadj > 0xffffffffn || mult - maxadj < 0n) {
    mult >>= 1n;
    shift--;
    maxadj = clocksourceMaxAdjustment(mult);
  }
  const { maxCycles } = clocksCalcMaxNsecs(mult, shift, maxadj, mask);
  return { mult: Number(mult), shift, maxadj: Number(maxadj), maxCycles };
}

function make(name: string, freqHz: number, read: () => bigint, mask = U64_MAX): Clocksource {
  if (!Number.isInteger(freqHz) || freqHz <= 0) throw new RangeError(`clocksource ${name}: frequency ${freqHz} Hz`);
  const p = clocksourceParams(freqHz, mask);
  // A full 64-bit mask is a no-op: skip it, a BigInt & allocates on every read.
  return { name, read: mask === U64_MAX ? read : () => read() & mask, freqHz, mask, ...p, vdsoClockMode: vdso_clock_mode.TSC };
}

/**
 * The host's high-resolution counter in nanoseconds (Node `hrtime`, else
 * `performance`), with the resolution it really delivers (measured once):
 * published as hrtimer_res, so clock_getres tells the truth in a browser too.
 */
export function hostClocksource(): Clocksource {
  if (typeof process !== "undefined" && typeof process.hrtime?.bigint === "function") {
    return { ...make("hrtime", 1_000_000_000, process.hrtime.bigint), resolutionNs: hostResolutionNs };
  }
  // Whole milliseconds of the origin and the fraction separately: one f64 would lose ns.
  const origin = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n;
  return { ...make("performance", 1_000_000_000, () => origin + BigInt(Math.round(performance.now() * 1e6))), resolutionNs: hostResolutionNs };
}

let hostRes: number | undefined;

/**
 * The smallest step the host's clock really takes, in ns, measured once:
 * 1 ns for Node's hrtime; browsers coarsen `performance.now()` (5 us in a
 * cross-origin isolated page, 100 us otherwise in Chromium).
 */
export function hostResolutionNs(): number {
  if (hostRes !== undefined) return hostRes;
  if (typeof process !== "undefined" && typeof process.hrtime?.bigint === "function") return (hostRes = 1);
  let min = Infinity;
  let last = performance.now();
  for (let i = 0; i < 100_000 && min > 0.001; i++) {
    const t = performance.now();
    if (t > last && t - last < min) min = t - last;
    last = t;
  }
  return (hostRes = Number.isFinite(min) ? Math.max(1, Math.round(min * 1e6)) : 1_000_000);
}

/** A 64-bit counter at `freqHz` in the arch page's counter word: its mult, shift and limits. */
abstract class ArchCounter {
  readonly mask = U64_MAX;
  readonly mult: number;
  readonly shift: number;
  readonly maxadj: number;
  readonly maxCycles: bigint;
  constructor(readonly freqHz: number) {
    ({ mult: this.mult, shift: this.shift, maxadj: this.maxadj, maxCycles: this.maxCycles } = clocksourceParams(freqHz, U64_MAX));
  }
}

/**
 * A counter that moves only when told to: deterministic time, hours of it in
 * milliseconds. Mode VIRTUAL: readers load it from the arch page, no host call.
 */
export class VirtualClocksource extends ArchCounter implements Clocksource {
  readonly name = "virtual";
  readonly vdsoClockMode = vdso_clock_mode.VIRTUAL;
  counter: bigint;
  private fracNs = 0n;
  private stores: DataStore[] = [];

  constructor(freqHz = 1_000_000_000, start = 0n) {
    super(freqHz);
    this.counter = start;
  }

  attach(store: DataStore): void {
    this.stores.push(store);
    this.publish();
  }

  private publish(): void {
    for (const s of this.stores) if (!s.fenced()) s.storeU64Atomic(s.arch + vdso_arch_data.counter, this.counter); // an adopted store's counter is its new kernel's
  }

  read(): bigint {
    return this.counter;
  }

  /** Advances by whole cycles. */
  advance(cycles: bigint | number): void {
    const c = s64(cycles, "cycles");
    if (c < 0n) throw new RangeError("wasm-vdso: a counter does not go backwards");
    const next = this.counter + c;
    this.counter = next > this.mask ? next & this.mask : next; // (a BigInt & allocates; mask is all ones)
    this.publish();
  }

  /** Advances by nanoseconds of the counter's own (nominal) time, carrying fractions of a cycle. */
  advanceNs(ns: bigint | number): void {
    const n = s64(ns, "ns");
    if (n < 0n) throw new RangeError("wasm-vdso: a counter does not go backwards");
    // A 1 GHz counter (the default) counts nanoseconds: no fraction ever carries.
    if (this.freqHz === 1_000_000_000) return this.advance(n);
    const total = n * BigInt(this.freqHz) + this.fracNs;
    this.advance(total / NSEC_PER_SEC); // checks before it moves anything
    this.fracNs = total % NSEC_PER_SEC;
  }
}

/**
 * Mode SHARED_COUNTER: the host's ns counter copied into the arch page by a
 * ticker, so a read is one load. On shared memory the ticker is a worker
 * (`periodNs` 0 spins: ~100 ns resolution, one core busy; otherwise it sleeps
 * between updates, ~50 us at least). Without shared memory the kernel's own
 * tick refreshes it. The resolution published is the measured period.
 */
export class SharedCounterClocksource extends ArchCounter implements Clocksource {
  readonly name = "shared-counter";
  readonly vdsoClockMode = vdso_clock_mode.SHARED_COUNTER;
  private store?: DataStore;
  private worker?: SpawnedWorker;
  private host = hostClocksource();
  private lastTick = 0n;
  private period = 0n;

  constructor(readonly periodNs = 50_000) {
    super(1_000_000_000); // the host's ns clock
  }

  /** Whether a worker keeps the counter (else the kernel's tick does). */
  get threaded(): boolean {
    return this.worker !== undefined;
  }

  async attach(store: DataStore): Promise<void> {
    this.store = store;
    // An adopted store's last ticker was told to stop: this one must run.
    store.storeU32Atomic(store.arch + vdso_arch_data.ticker_stop, 0);
    this.refresh();
    const shared = typeof SharedArrayBuffer !== "undefined" && store.memory.buffer instanceof SharedArrayBuffer;
    if (shared && canShare()) {
      // The ticker: workers/ticker.js in the source tree, its code embedded once built (scripts/bundle.mjs).
      const ticker = fromSource(import.meta.url) ? sourceFile("../workers/ticker.js", import.meta.url) : { name: "ticker", code: (await import("../generated/ticker.ts")).default };
      this.worker = await spawn(ticker, {
        memory: store.memory, arch: store.arch, periodNs: this.periodNs, token: store.token,
        offsets: { counter: vdso_arch_data.counter, period_ns: vdso_arch_data.period_ns, ticks: vdso_arch_data.ticks, ticker_stop: vdso_arch_data.ticker_stop, writer: vdso_arch_data.writer },
      });
      let failed: Error | undefined; // a ticker that did not load (a browser reports it as an event)
      this.worker.onError((e) => (failed ??= e));
      // Time must not stand still, and the resolution must be measured before it is
      // published: wait for the ticker's first full window (or keep the counter from the tick).
      const t0 = Date.now();
      while (store.loadU64Atomic(store.arch + vdso_arch_data.period_ns) === 0n) {
        if (failed) {
          this.close();
          throw failed;
        }
        if (Date.now() - t0 > 10_000) {
          this.close(); // the kernel's tick keeps the counter instead
          break;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }

  onTick(): void {
    this.refresh();
  }

  /** In-thread refresh (no worker): the kernel's tick keeps the counter. */
  refresh(): void {
    if (!this.store || this.worker) return;
    const now = this.host.read();
    if (this.lastTick) this.period = now - this.lastTick;
    this.lastTick = now;
    this.store.storeU64Atomic(this.store.arch + vdso_arch_data.counter, now);
    this.store.storeU64Atomic(this.store.arch + vdso_arch_data.period_ns, this.period);
  }

  read(): bigint {
    if (!this.store) return this.host.read();
    return this.store.loadU64Atomic(this.store.arch + vdso_arch_data.counter);
  }

  resolutionNs(): number {
    const p = this.store ? this.store.loadU64Atomic(this.store.arch + vdso_arch_data.period_ns) : 0n;
    // Before the first measurement, the requested period is the best estimate.
    const ns = p > 0n ? p : BigInt(Math.max(1, this.periodNs));
    return Number(ns > 0xffffffffn ? 0xffffffffn : ns);
  }

  close(): void {
    if (!this.store) return;
    // An adopted store's ticker_stop is its new ticker's: ours stops by itself (it watches the claim).
    if (this.store.fenced()) return void (this.worker = undefined);
    this.store.storeU32Atomic(this.store.arch + vdso_arch_data.ticker_stop, 1);
    this.store.notify(this.store.arch + vdso_arch_data.ticker_stop);
    this.worker = undefined;
  }
}
