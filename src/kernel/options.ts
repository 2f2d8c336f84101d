/** Kernel.create's options, and their checks (all made before anything is built). */
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
  /** CLOCK_REALTIME at start; default the host's wall clock. Ignored when a store is adopted. */
  realtime?: TimespecInput;
  /**
   * Take over `memory`'s store if its writer is gone (closed, or silent for
   * `adoptAfterMs`): every clock continues from the last consistent published
   * state. A store with a live writer is refused, and so is a second adopter
   * racing this one. The old writer is fenced: it never writes the store
   * again, and its calls throw. The counter must be the old writer's kind
   * (same counter mode).
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

/** Throws a TypeError/RangeError naming the first option that is wrong. */
export function checkOptions(opts: KernelOptions): void {
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
  if (opts.adopt !== undefined && typeof opts.adopt !== "boolean") throw new TypeError(`wasm-vdso: adopt must be a boolean, not ${typeof opts.adopt}`);
  if (opts.adoptAfterMs !== undefined && !(typeof opts.adoptAfterMs === "number" && opts.adoptAfterMs >= MIN_SILENCE_MS)) {
    throw new RangeError(
      `wasm-vdso: adoptAfterMs must be a number of at least ${MIN_SILENCE_MS} (five heartbeats of ${HEARTBEAT_MS} ms: a live writer is never silent that long), not ${String(opts.adoptAfterMs)}`,
    );
  }
}
