/** Kernel.create's options, and their checks (all made before anything is built). */
import { LOW_RES_NSEC } from "../../assembly/layout.ts";
import type { TimespecInput } from "../time.ts";
import { HEARTBEAT_MS, MIN_SILENCE_MS } from "./adopt.ts";
import type { Clocksource } from "./clocksource.ts";

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
  /** Ticker period for "shared" in ns, at most a tick (4 ms); 0 spins (best resolution, one core busy). Default 50 us. */
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
  /** CLOCK_REALTIME at start; default the host's wall clock. Ignored when a store is adopted. */
  realtime?: TimespecInput;
  /**
   * Take over `memory`'s store if its writer is gone (closed, or silent for
   * `adoptAfterMs`): every clock continues from the last consistent published
   * state. A store with a live writer is refused, and so is a second adopter
   * racing this one. The old writer is fenced: it never writes the store
   * again, and its calls throw. The counter must be the old writer's kind
   * (same counter mode): another is refused before the store is touched.
   */
  adopt?: boolean;
  /**
   * How long a writer must have been silent to be taken for gone (ms,
   * default 1000). Every live kernel heartbeats every 100 ms whether or not
   * it ticks (a stopped ticker, an idle virtual kernel), so the least allowed
   * is 500 (five heartbeats: a late timer is not taken for a dead writer);
   * less is a RangeError. A writer whose thread stalls longer than this can
   * lose its store.
   */
  adoptAfterMs?: number;
}

/** Every option, so that a copy of the options takes them all (a new option must be added here: the type says so). */
const OPTION_KEYS: Record<keyof KernelOptions, true> = {
  counter: true, tickerPeriodNs: true, memory: true, clocksource: true, realtime: true, adopt: true, adoptAfterMs: true,
};

/**
 * Throws a TypeError/RangeError naming the first option that is wrong, else
 * returns a plain copy of the options: each read once (a getter runs once), so
 * what was checked is what is used.
 */
export function checkOptions(given: KernelOptions): KernelOptions {
  if (given === null || typeof given !== "object") throw new TypeError(`wasm-vdso: options must be an object, not ${given === null ? "null" : typeof given}`);
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(OPTION_KEYS) as (keyof KernelOptions)[]) {
    const v = given[k];
    if (v !== undefined) copy[k] = v;
  }
  const opts = copy as KernelOptions;
  if (opts.counter !== undefined && !COUNTER_MODES.includes(opts.counter)) {
    throw new TypeError(`wasm-vdso: counter must be one of ${COUNTER_MODES.map((m) => JSON.stringify(m)).join(", ")}, not ${typeof opts.counter === "string" ? JSON.stringify(opts.counter) : typeof opts.counter}`);
  }
  if (opts.tickerPeriodNs !== undefined) {
    if (typeof opts.tickerPeriodNs !== "number") throw new TypeError(`wasm-vdso: tickerPeriodNs must be a number, not ${typeof opts.tickerPeriodNs}`);
    // At most a tick: a coarser counter is coarser than the coarse clocks, and the
    // ticker's first period (256 updates) would take longer than create waits for it.
    if (!Number.isSafeInteger(opts.tickerPeriodNs) || opts.tickerPeriodNs < 0 || opts.tickerPeriodNs > LOW_RES_NSEC) {
      throw new RangeError(`wasm-vdso: tickerPeriodNs must be an integer in [0, ${LOW_RES_NSEC}] (at most a tick), not ${opts.tickerPeriodNs}`);
    }
  }
  if (opts.memory !== undefined && typeof opts.memory !== "boolean" && !(opts.memory instanceof WebAssembly.Memory)) {
    throw new TypeError("wasm-vdso: memory must be a WebAssembly.Memory or a boolean");
  }
  if (opts.clocksource !== undefined && (opts.clocksource === null || typeof opts.clocksource.read !== "function")) {
    throw new TypeError("wasm-vdso: clocksource must be a Clocksource");
  }
  if (opts.adopt !== undefined && typeof opts.adopt !== "boolean") throw new TypeError(`wasm-vdso: adopt must be a boolean, not ${typeof opts.adopt}`);
  if (opts.adoptAfterMs !== undefined && typeof opts.adoptAfterMs !== "number") throw new TypeError(`wasm-vdso: adoptAfterMs must be a number, not ${typeof opts.adoptAfterMs}`);
  if (opts.adoptAfterMs !== undefined && !(opts.adoptAfterMs >= MIN_SILENCE_MS && Number.isFinite(opts.adoptAfterMs))) {
    throw new RangeError(
      `wasm-vdso: adoptAfterMs must be a finite number of at least ${MIN_SILENCE_MS} (five heartbeats of ${HEARTBEAT_MS} ms: a live writer is never silent that long), not ${String(opts.adoptAfterMs)}`,
    );
  }
  return opts;
}

/** The longest delay a host timer keeps (2^31 - 1 ms): setInterval makes a longer one 1 ms. */
const TIMER_MAX_MS = 0x7fffffff;

/**
 * A tick rate in Hz: a number in (0, 10000] whose period a host timer can
 * hold (at least ~4.7e-7 Hz: a period up to 2^31 - 1 ms, ~24.8 days).
 * TypeError for a non-number, RangeError naming hz otherwise.
 */
export function checkHz(hz: unknown): number {
  if (typeof hz !== "number") throw new TypeError(`wasm-vdso: hz must be a number, not ${typeof hz}`);
  if (!(hz > 0 && hz <= 10_000)) throw new RangeError(`wasm-vdso: hz must be in (0, 10000], not ${hz}`);
  if (1000 / hz > TIMER_MAX_MS) throw new RangeError(`wasm-vdso: hz ${hz} is a tick every ${1000 / hz} ms, longer than a host timer holds (${TIMER_MAX_MS} ms): at least ${1000 / TIMER_MAX_MS} Hz`);
  return hz;
}
