/**
 * Readers: the wasm vDSO bound to a view of a data store, in any thread. A
 * reader of a Kernel in this thread falls back to that kernel's syscalls for
 * its task; any other reader falls back to what the page itself can answer.
 */
import { EINVAL, NO_PAGE, reader_slot, vdso_clock, vdso_time_data } from "../assembly/layout.ts";
import type { View } from "./datastore.ts";
import { hostClocksource } from "./kernel/clocksource.ts";
import type { Kernel } from "./kernel/kernel.ts";
import type { TimeNamespace } from "./kernel/timens.ts";
import { PageSyscalls } from "./pagesyscalls.ts";
import type { Timespec } from "./time.ts";
import { type Build, type ClockResult, type Syscalls, Vdso } from "./wasm.ts";

/** Where a reader reads: a kernel in this thread, or a store in a (shared) memory and a view of it. */
export type ReaderSource = Kernel | { memory: WebAssembly.Memory; view: View };

export interface ReaderOptions {
  /** Read as a task in this time namespace (a Kernel source only; else pass its view). */
  ns?: TimeNamespace | null;
  build?: Exclude<Build, "testing">;
}

const isKernel = (s: ReaderSource): s is Kernel => typeof (s as Kernel).sysClockGettime === "function";
const isClockId = (c: number) => Number.isInteger(c) && c >= -(2 ** 31) && c < 2 ** 31;

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

  /** Releases the reader's slot; later calls throw. (A dropped reader's slot is reclaimed by GC too.) */
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
  let b: Vdso;
  if (isKernel(source)) {
    const ns = opts.ns ?? null;
    b = await Vdso.create({ memory: source.memory, counter: source.cs.read.bind(source.cs), syscalls: kernelSyscalls(source, ns), build: opts.build });
    b.bind(ns ? ns.view : source.rootView());
  } else {
    if (opts.ns) throw new TypeError("wasm-vdso: ns is for a Kernel source; for a store, pass the namespace's view");
    const { memory, view } = source;
    if (!(memory instanceof WebAssembly.Memory)) throw new TypeError("wasm-vdso: source.memory must be a WebAssembly.Memory");
    const realPage = view.real !== undefined && view.real !== NO_PAGE ? view.real : view.time;
    let vdso: Vdso | undefined;
    const mode = (idx: number) =>
      vdso!.view.getInt32(realPage + vdso_time_data.aux_clock_data + idx * vdso_clock.SIZE + vdso_clock.clock_mode, true);
    b = vdso = await Vdso.create({ memory, counter: hostClocksource().read, syscalls: new PageSyscalls(mode), build: opts.build });
    try {
      b.bind(view);
    } catch (e) {
      b.close();
      throw e;
    }
  }
  return new Reader(b);
}

export type { ClockResult, Timespec };
