/**
 * The WASI provider for a guest: clocks exact by default, poll_oneoff on the
 * kernel's clocks (sleeps block in real time, or advance a virtual kernel),
 * fd subscriptions left to the runtime, and an opt-in seeded random_get for
 * deterministic runs.
 */
import { CLOCK_MONOTONIC, NO_PAGE, vdso_clock, vdso_clock_mode } from "../../assembly/layout.ts";
import { hostResolutionNs, maxIdleNs } from "../kernel/clocksource.ts";
import { Kernel } from "../kernel/kernel.ts";
import { bridgeOf, createReader, type Reader } from "../reader.ts";
import type { TimespecInput } from "../time.ts";
import { wasiClockImports, type WasiClockImports } from "./clock.ts";
import { GuestMemory } from "./guest-memory.ts";
import { pollOneoff, type PollStats, type VirtualTime } from "./poll.ts";
import { type Seed, seededRekey } from "./seeded.ts";

/** A runtime's preview1 import object (`wasi.wasiImport` of node:wasi or browser_wasi_shim). */
export type RuntimeImports = Record<string, unknown>;

export interface WasiOptions {
  /** The vDSO reader the guest's clocks come from. */
  reader: Reader;
  /** The guest's memory, asked at call time (bind it after instantiation). */
  guestMemory: () => WebAssembly.Memory;
  /**
   * The runtime's own imports (`wasi.wasiImport`): `imports` is them with ours
   * on top, and poll_oneoff hands them its fd subscriptions.
   */
  runtime?: RuntimeImports;
  /**
   * The reader's kernel (in this thread). Required when its clock is virtual:
   * a guest's sleep advances it. With a real clock, sleeps tick it on waking.
   */
  kernel?: Kernel;
  /**
   * Accept a reader whose MONOTONIC resolution is coarser than the host's best
   * counter (a "shared" kernel: one load per read, ~50-120 us steps). Default
   * false: such a reader is refused, since a guest must not get a clock coarser
   * than the runtime the provider replaces.
   */
  coarse?: boolean;
  /**
   * Deterministic random_get: the reader's getrandom state is keyed from this
   * seed (and rekeyed from it on every rng generation), never from the host.
   * NOT FOR SECRETS: the bytes are a function of the seed. It rekeys this
   * reader: give it a reader of its own.
   */
  insecureRandomSeed?: Seed;
  /** Busy-wait in real-time sleeps even where Atomics.wait is allowed. */
  busyWait?: boolean;
}

export interface WasiImports extends WasiClockImports {
  poll_oneoff(inPtr: number, outPtr: number, nsubscriptions: number, neventsPtr: number): number;
  [name: string]: unknown;
}

export interface WasiProvider {
  /** The runtime's imports with ours on top: `{ wasi_snapshot_preview1: p.imports }`. */
  readonly imports: WasiImports;
  /** What poll_oneoff did (sleeps, waits, virtual advances). */
  readonly stats: PollStats;
  /** Whether sleeps advance a virtual kernel. */
  readonly virtual: boolean;
  /** The MONOTONIC resolution guests get, in ns. */
  readonly resolutionNs: number;
}

const isKernel = (k: unknown): k is Kernel => typeof (k as Kernel)?.sysClockGettime === "function" && typeof (k as Kernel)?.tick === "function";

/** The reader's page clock mode (VIRTUAL, TSC, SHARED_COUNTER, ...). */
function pageClockMode(r: Reader): number {
  const b = bridgeOf(r);
  const v = b.bound;
  if (!v) return vdso_clock_mode.NONE;
  const page = v.real !== undefined && v.real !== NO_PAGE ? v.real : v.time;
  return Atomics.load(new Int32Array(b.memory.buffer, page + vdso_clock.clock_mode, 1), 0);
}

/** The provider for a guest with its own memory. Checks every option before anything is made. */
export function wasiImports(opts: WasiOptions): WasiProvider {
  if (opts === null || typeof opts !== "object") throw new TypeError("wasm-vdso: wasiImports needs { reader, guestMemory, ... }");
  const { reader, guestMemory, runtime, kernel } = opts;
  const b = bridgeOf(reader); // throws for a non-reader
  if (typeof guestMemory !== "function") throw new TypeError("wasm-vdso: guestMemory must be a function returning the guest's memory");
  if (runtime !== undefined && (runtime === null || typeof runtime !== "object")) throw new TypeError("wasm-vdso: runtime must be the runtime's import object (wasi.wasiImport)");
  if (kernel !== undefined) {
    if (!isKernel(kernel)) throw new TypeError("wasm-vdso: kernel must be a Kernel");
    if (kernel.memory !== b.memory) throw new TypeError("wasm-vdso: kernel must be the reader's kernel (its store's memory is not the reader's)");
  }
  const virtual = pageClockMode(reader) === vdso_clock_mode.VIRTUAL;
  if (virtual && kernel === undefined) throw new TypeError("wasm-vdso: this reader's clock is virtual: pass its kernel, so that a guest's sleep advances it");
  const res = reader.clockGetres(CLOCK_MONOTONIC);
  const resolutionNs = res.ret === 0 ? Number(res.ts!.sec * 1_000_000_000n + res.ts!.nsec) : Infinity;
  const host = hostResolutionNs();
  if (!opts.coarse && !virtual && resolutionNs > host) {
    throw new RangeError(
      `wasm-vdso: this reader's MONOTONIC resolution is ${resolutionNs} ns, coarser than the host's ${host} ns (what node:wasi or browser_wasi_shim give): ` +
        `read a kernel made with counter "host-call" (or use createWasiProvider()), or pass coarse: true to accept it`,
    );
  }
  let vt: VirtualTime | undefined;
  if (virtual) {
    const cs = kernel!.cs as unknown as { advanceNs?: (ns: bigint) => void };
    if (typeof cs.advanceNs !== "function") throw new TypeError("wasm-vdso: a virtual clock's kernel must have a VirtualClocksource (advanceNs)");
    vt = { advanceNs: (ns) => cs.advanceNs!(ns), tick: () => { if (!kernel!.isClosed) kernel!.tick(); }, maxIdleNs: maxIdleNs(kernel!.cs) };
  }
  const rekey = opts.insecureRandomSeed === undefined ? undefined : seededRekey(b, opts.insecureRandomSeed);
  const clocks = wasiClockImports(reader, guestMemory, rekey);
  const stats: PollStats = { polls: 0, waits: 0, busyWaits: 0, virtualNs: 0n, ticks: 0, runtimePolls: 0 };
  const rtPoll = runtime?.poll_oneoff;
  const poll = pollOneoff({
    gm: new GuestMemory(guestMemory, b),
    now: reader.nowNs,
    runtimePoll: typeof rtPoll === "function" ? (rtPoll as (a: number, b: number, c: number, d: number) => number) : undefined,
    virtual: vt,
    busyWait: opts.busyWait === true,
    afterSleep: kernel && !virtual ? () => { if (!kernel.isClosed) kernel.tick(); } : undefined,
    stats,
  });
  const imports: WasiImports = { ...(runtime ?? {}), ...clocks, poll_oneoff: poll };
  return { imports, stats, virtual, resolutionNs };
}

export interface WasiProviderOptions extends Omit<WasiOptions, "reader" | "kernel" | "coarse"> {
  /**
   * "exact" (default): a kernel on the host's counter, read by a host call
   * (Node: hrtime, 1 ns; a browser: performance.now()'s own resolution), as
   * fine as the runtime it replaces. "fast": the shared counter (one load per
   * read, its measured period as resolution, tens of us): an explicit choice.
   * "virtual": time moves only when the guest sleeps (or you advance it).
   */
  clock?: "exact" | "fast" | "virtual";
  /** REALTIME at start. Default: the host's wall clock; for "virtual", 1_700_000_000 s (deterministic). */
  realtime?: TimespecInput;
}

/** A provider with its own kernel and reader: `close()` stops both. */
export async function createWasiProvider(opts: WasiProviderOptions): Promise<WasiProvider & { kernel: Kernel; reader: Reader; close(): void }> {
  if (opts === null || typeof opts !== "object") throw new TypeError("wasm-vdso: createWasiProvider needs { guestMemory, ... }");
  const clock = opts.clock ?? "exact";
  if (clock !== "exact" && clock !== "fast" && clock !== "virtual") throw new TypeError(`wasm-vdso: clock must be "exact", "fast" or "virtual", not ${String(clock)}`);
  const realtime = opts.realtime ?? (clock === "virtual" ? { sec: 1_700_000_000n, nsec: 0n } : undefined);
  const kernel = await Kernel.create({ counter: clock === "exact" ? "host-call" : clock === "fast" ? "shared" : "virtual", realtime });
  let reader: Reader | undefined;
  try {
    if (clock !== "virtual") kernel.startTicking();
    reader = await createReader(kernel);
    const p = wasiImports({ ...opts, reader, kernel, coarse: clock === "fast" });
    const r = reader;
    return { ...p, kernel, reader: r, close: () => { r.close(); kernel.close(); } };
  } catch (e) {
    reader?.close();
    kernel.close();
    throw e;
  }
}
