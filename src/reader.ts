/**
 * Readers: the wasm vDSO bound to a view of a data store, in any thread. A
 * reader of a Kernel in this thread falls back to that kernel's syscalls for
 * its task; any other reader falls back to what the page itself can answer.
 */
import { EINVAL, NO_PAGE, reader_slot, writer_state } from "../assembly/layout.ts";
import { STALE_AFTER_MS } from "./kernel/adopt.ts";
import { isClockId } from "./kernel/syscalls.ts";
import { writerInfo } from "./pageclock.ts";
import { checkView, type View } from "./datastore.ts";
import { hostClocksource } from "./kernel/clocksource.ts";
import type { Kernel } from "./kernel/kernel.ts";
import { storeOfNamespace, type TimeNamespace } from "./kernel/timens.ts";
import { PageSyscalls } from "./pagesyscalls.ts";
import type { Timespec } from "./time.ts";
import { type Build, type ClockResult, type Syscalls, Vdso } from "./wasm.ts";

/** Where a reader reads: a kernel in this thread, or a store in a (shared) memory and a view of it. */
export type ReaderSource = Kernel | { memory: WebAssembly.Memory; view: View };

export interface ReaderOptions {
  /** Read as a task in this time namespace (a Kernel source only; else pass its view). */
  ns?: TimeNamespace | null;
  build?: Extract<Build, "release" | "debug">;
}

const isKernel = (s: ReaderSource): s is Kernel => typeof (s as Kernel).sysClockGettime === "function";

export interface ReaderStatus {
  writer: "running" | "stale" | "stuck" | "closed" | "none";
  degraded: boolean;
  giveUps: number;
  waits: number;
  publications: bigint;
}

/** The bridge behind each reader, out of reach of callers (no raw exports on public objects). */
const bridges = new WeakMap<Reader, Vdso>();

/** For this package's own faces (the WASI provider): the bridge of a reader. */
export function bridgeOf(r: Reader): Vdso {
  const b = bridges.get(r);
  if (!b) throw new TypeError("wasm-vdso: not a reader (or a closed one)");
  return b;
}

/** A wasm vDSO reader. */
export class Reader {
  /**
   * Nanoseconds as a number (exact below 2^53 ns, 104 days; REALTIME rounds to
   * ~256 ns), or a negated errno; -EINVAL for an id that is not an integer.
   * The wasm export itself: a call site that sees one function gets V8's
   * inlined JS-to-wasm call, ~0.2x `performance.now()`.
   */
  readonly now: (clock: number) => number;
  /** Nanoseconds as a BigInt (allocates), or a negated errno. Also the export itself. */
  readonly nowNs: (clock: number) => bigint;

  /** @internal made by `createReader` */
  constructor(b: Vdso) {
    bridges.set(this, b);
    this.now = b.exports.clock_gettime_f64;
    this.nowNs = b.exports.clock_gettime_ns;
  }

  /** `clock_gettime`: { ret: 0, ts } or { ret: -errno }. */
  clockGettime(clock: number): ClockResult {
    return isClockId(clock) ? bridgeOf(this).clockGettime(clock) : { ret: -EINVAL };
  }

  /** `clock_getres`: the resolution this reader really delivers. */
  clockGetres(clock: number): ClockResult {
    return isClockId(clock) ? bridgeOf(this).clockGetres(clock) : { ret: -EINVAL };
  }

  /** `gettimeofday`: REALTIME in microseconds, and the timezone. */
  gettimeofday() {
    return bridgeOf(this).gettimeofday();
  }

  /** `time()`: the seconds of REALTIME at the last update (no counter read), or a negated errno. */
  time(): bigint {
    return bridgeOf(this).time();
  }

  /** `len` random bytes from the vDSO's getrandom (this reader's own ChaCha20 state). */
  getrandom(len: number): Uint8Array {
    if (!Number.isSafeInteger(len) || len < 0) throw new RangeError(`wasm-vdso: getrandom len must be a non-negative integer, not ${len}`);
    const b = bridgeOf(this);
    const out = new Uint8Array(len);
    const chunk = b.scratch + reader_slot.chunk;
    for (let off = 0; off < len; off += reader_slot.CHUNK_SIZE) {
      const n = Math.min(reader_slot.CHUNK_SIZE, len - off);
      const err = b.exports.wasi_random_get(chunk, n);
      if (err !== 0) throw new Error(`wasm-vdso: random_get failed (WASI errno ${err})`);
      out.set(new Uint8Array(b.memory.buffer, chunk, n), off);
    }
    new Uint8Array(b.memory.buffer, chunk, reader_slot.CHUNK_SIZE).fill(0); // handed out: not kept
    return out;
  }

  /**
   * How this reader's store is doing. `writer`: "running" (a live writer
   * heartbeats, ticking or not), "stale" (no heartbeat for a second: reads extrapolate the last update),
   * "stuck" (the page is mid-update and this reader gave up waiting on it),
   * "closed", or "none" (nothing published). `degraded`: answers come from the
   * last consistent state carried forward (stuck or closed). `giveUps` and
   * `waits`: how often this reader gave up on, or waited for, a writer.
   */
  status(): ReaderStatus {
    const b = bridgeOf(this);
    const d = b.view;
    const giveUps = d.getUint32(b.scratch + reader_slot.give_ups, true);
    const waits = d.getUint32(b.scratch + reader_slot.waits, true);
    const arch = b.bound?.arch;
    if (arch === undefined || arch === NO_PAGE) return { writer: "none", degraded: false, giveUps, waits, publications: 0n };
    const w = writerInfo(b.memory, arch);
    // Stuck: a seq word this reader gave up on still holds the odd value it gave up on.
    const u32 = new Uint32Array(b.memory.buffer);
    let stuck = false;
    for (let i = 0; i < reader_slot.STUCK_WORDS; i++) {
      const e = b.scratch + reader_slot.stuck + i * 8;
      const at = d.getUint32(e, true);
      if (at !== 0 && Atomics.load(u32, at >> 2) === d.getUint32(e + 4, true)) stuck = true;
    }
    const silentMs = Number(hostClocksource().read() - w.heartbeatNs) / 1e6;
    const writer =
      w.state === writer_state.NONE ? "none" : w.state === writer_state.CLOSED ? "closed" : stuck ? "stuck" : silentMs > STALE_AFTER_MS ? "stale" : "running";
    return { writer, degraded: writer === "stuck" || writer === "closed", giveUps, waits, publications: w.publications };
  }

  /**
   * Releases the reader's slot; later method calls throw, and `now`/`nowNs`
   * (the exports themselves) answer -EFAULT. A dropped reader's slot is
   * reclaimed by GC too.
   */
  close(): void {
    bridges.get(this)?.close();
    bridges.delete(this);
  }
}

/** The syscalls of a kernel in this thread, for a task in `ns` (also for the bench's own test builds). */
export function kernelSyscalls(k: Kernel, ns: TimeNamespace | null): Syscalls {
  return {
    clock_gettime: (c) => k.sysClockGettime(c, ns),
    clock_getres: (c) => k.sysClockGetres(c),
    gettimeofday: () => k.sysGettimeofday(),
  };
}

/**
 * A reader of `source`: a Kernel in this thread (optionally as a task in its
 * time namespace `opts.ns`), or `{ memory, view }` from a KernelWorker or a
 * kernel in another thread.
 */
export async function createReader(source: ReaderSource, opts: ReaderOptions = {}): Promise<Reader> {
  if (source === null || typeof source !== "object") throw new TypeError(`wasm-vdso: createReader needs a Kernel or { memory, view }, not ${source === null ? "null" : typeof source}`);
  if (opts === null || typeof opts !== "object") throw new TypeError("wasm-vdso: createReader options must be an object");
  const build = opts.build; // each option read once
  const nsOpt = opts.ns ?? null;
  if (build !== undefined && build !== "release" && build !== "debug") throw new TypeError(`wasm-vdso: build must be "release" or "debug", not ${String(build)}`);
  let b: Vdso;
  if (isKernel(source)) {
    const ns = kernelNamespace(source, nsOpt);
    b = await Vdso.create({ memory: source.memory, counter: source.cs.read.bind(source.cs), syscalls: kernelSyscalls(source, ns), build });
    bindOrClose(b, ns ? ns.view : source.rootView());
  } else {
    if (nsOpt) throw new TypeError("wasm-vdso: ns is for a Kernel source; for a store, pass the namespace's view");
    const memory = source.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new TypeError("wasm-vdso: source.memory must be a WebAssembly.Memory");
    const view = checkView(source.view, "source.view");
    const counter = hostClocksource().read;
    b = await Vdso.create({ memory, counter, syscalls: new PageSyscalls(memory, view, counter), build });
    bindOrClose(b, view);
  }
  return new Reader(b);
}

/** `ns` for a reader of kernel `k`: null, or a namespace `k` made (TypeError otherwise). */
export function kernelNamespace(k: Kernel, ns: unknown): TimeNamespace | null {
  if (ns === null) return null;
  if (storeOfNamespace(ns) !== k.store) throw new TypeError("wasm-vdso: ns must be a TimeNamespace this kernel made (createTimeNamespace); for another store's, pass its view");
  return ns as TimeNamespace;
}

function bindOrClose(b: Vdso, view: View): void {
  try {
    b.bind(view);
  } catch (e) {
    b.close();
    throw e;
  }
}

export type { ClockResult, Timespec };
