/**
 * The bridge: the only place the wasm vDSO is instantiated. It owns an
 * instance's exports, its cached memory view and its reader slot, binds the
 * instance to a view of a data store and answers the module's imports (the
 * counter and the syscalls). The exports stay here: public objects
 * (`Reader`) hold a bridge privately.
 */
import { MAX_READER_SLOTS, NO_PAGE, READER_SLOT_SIZE, READER_SLOTS, TIMEVAL_SIZE } from "../assembly/layout.ts";
import { checkView, storeMemory, type View } from "./datastore.ts";
import type { Timespec } from "./time.ts";
import { fromSource } from "./workers/spawn.ts";

/** What the syscall fallback answers: a value, or a negated errno. */
export type SysResult<T> = T | number;

/** The host kernel behind the vDSO: asked only where the vDSO falls back. */
export interface Syscalls {
  clock_gettime(clock: number): SysResult<Timespec>;
  clock_getres(clock: number): SysResult<Timespec>;
  gettimeofday(): SysResult<{ sec: bigint; usec: bigint; minuteswest: number; dsttime: number }>;
}

/** A `clock_gettime`/`clock_getres` result: ret 0 with a value, or a negated errno. */
export interface ClockResult {
  ret: number;
  ts?: Timespec;
}

/** The shipped module's exports, typed by asc's generated declarations. */
type Exports = Awaited<ReturnType<typeof import("../build/release.js").instantiate>>;

/**
 * Every wasm vDSO module the project builds, as [plain memory, shared memory]
 * files; the memory decides which. release: what users run; debug: with
 * asserts; testing: release plus the primitives tests and the bench call;
 * stress and inline: test and bench programs that compile the reader in.
 */
const FILES = {
  release: ["release", "release-shared"],
  debug: ["debug", null],
  testing: ["testing", "testing-shared"],
  stress: [null, "stress"],
  "stress-noseqlock": [null, "stress-noseqlock"],
  // The torn-read harness's negative controls: one retry check removed each.
  "stress-noretry-hres": [null, "stress-noretry-hres"],
  "stress-noretry-hres-timens": [null, "stress-noretry-hres-timens"],
  "stress-noretry-coarse": [null, "stress-noretry-coarse"],
  "stress-noretry-coarse-timens": [null, "stress-noretry-coarse-timens"],
  "stress-noretry-aux": [null, "stress-noretry-aux"],
  "stress-noretry-value": [null, "stress-noretry-value"],
  inline: [null, "inline"],
} as const satisfies Record<string, readonly [string | null, string | null]>;

export type Build = keyof typeof FILES;

const isShared = (m: WebAssembly.Memory) => typeof SharedArrayBuffer !== "undefined" && m.buffer instanceof SharedArrayBuffer;

/** The builds embedded in the package (base64, scripts/bundle.mjs): no file, URL or fetch, so no bundler or server has to find them. */
const EMBEDDED = new Set(["release", "release-shared"]);

const fromBase64 = (s: string): Uint8Array<ArrayBuffer> => {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
};

/**
 * The module: embedded once built (release, release-shared); from build/ in the
 * source tree, and for the development builds (debug, testing, ...), read from
 * disk under Node and fetched elsewhere. That URL is built from a variable, not
 * `new URL("…", import.meta.url)`, so bundlers do not copy the build/ folder
 * into every app.
 */
async function wasmModule(file: string): Promise<WebAssembly.Module> {
  if (EMBEDDED.has(file) && !fromSource(import.meta.url)) {
    const { wasm } = await import("./generated/wasm.ts");
    return WebAssembly.compile(fromBase64(wasm[file as keyof typeof wasm]));
  }
  const here = import.meta.url;
  const url = new URL(`../build/${file}.wasm`, here);
  try {
    if (typeof process !== "undefined" && process.versions?.node) {
      const { readFile } = await import("node:fs/promises");
      return await WebAssembly.compile(await readFile(url));
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await WebAssembly.compile(await res.arrayBuffer());
  } catch (e) {
    const why = EMBEDDED.has(file) ? "" : " (the package embeds only release; this build is a file for development)";
    throw new Error(`wasm-vdso: the ${file} module could not be loaded from ${url.href}${why}: ${(e as Error)?.message ?? e}`);
  }
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

// Slot 0 of the slot region is a bitmap of the slots in use (bit 0: itself).
const SLOT_WORDS = MAX_READER_SLOTS / 32;
export const slotAddr = (idx: number) => READER_SLOTS + idx * READER_SLOT_SIZE;

/** Claims a free reader slot of `memory` (atomically: readers in other threads claim from the same map). */
export function claimSlot(memory: WebAssembly.Memory): number {
  const map = new Int32Array(memory.buffer, READER_SLOTS, SLOT_WORDS);
  if ((Atomics.load(map, 0) & 1) === 0) Atomics.or(map, 0, 1);
  for (let w = 0; w < SLOT_WORDS; w++) {
    for (let used = Atomics.load(map, w); used !== -1; used = Atomics.load(map, w)) {
      const bit = 31 - Math.clz32(~used & (used + 1)); // lowest clear bit
      if (Atomics.compareExchange(map, w, used, used | (1 << bit)) === used) return w * 32 + bit;
    }
  }
  throw new RangeError(`wasm-vdso: all ${MAX_READER_SLOTS - 1} reader slots of this memory are in use (close() readers you no longer need)`);
}

/** Gives a slot back, zeroed first: it held this reader's getrandom key. */
export function releaseSlot(memory: WebAssembly.Memory, idx: number): void {
  new Uint8Array(memory.buffer, slotAddr(idx), READER_SLOT_SIZE).fill(0);
  Atomics.and(new Int32Array(memory.buffer, READER_SLOTS, SLOT_WORDS), idx >> 5, ~(1 << (idx & 31)));
}

/** A dropped reader's slot comes back when its instance is collected. */
const slotsOfDropped = new FinalizationRegistry<{ memory: WebAssembly.Memory; idx: number }>((s) => releaseSlot(s.memory, s.idx));

/** One wasm vDSO instance on a store memory. */
export class Vdso {
  readonly exports: Exports;
  readonly memory: WebAssembly.Memory;
  /** This instance's slot address: its results and getrandom state, never shared with another reader. */
  readonly scratch: number;
  private readonly slotIdx: number;
  private closed = false;
  private buf?: ArrayBufferLike;
  private dv?: DataView;
  /** The counter the `rdtsc` import returns (the host's "CPU counter"). */
  counter: () => bigint;
  syscalls: Syscalls;
  /** Host random calls made (key fetches and fallbacks): a vDSO getrandom makes one per generation. */
  hostRandomCalls = 0;

  private constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory, counter: () => bigint, syscalls: Syscalls) {
    this.exports = instance.exports as unknown as Exports;
    this.memory = memory;
    this.counter = counter;
    this.syscalls = syscalls;
    this.slotIdx = claimSlot(memory);
    this.scratch = slotAddr(this.slotIdx);
    if (this.exports.set_slot(this.scratch) !== 0) {
      releaseSlot(memory, this.slotIdx);
      throw new RangeError("wasm-vdso: reader slot outside memory");
    }
    slotsOfDropped.register(instance, { memory, idx: this.slotIdx }, this);
  }

  /**
   * An instance reading the store in `memory` (default: a fresh store memory).
   * The memory decides the build's flavour: shared or not.
   */
  static async create(opts: { counter: () => bigint; syscalls: Syscalls; build?: Build; memory?: WebAssembly.Memory }): Promise<Vdso> {
    const memory = opts.memory ?? storeMemory(false);
    const build = opts.build ?? "release";
    const file = FILES[build][isShared(memory) ? 1 : 0];
    if (file === null) throw new Error(`wasm-vdso: the ${build} build has no ${isShared(memory) ? "shared" : "plain"}-memory flavour`);
    if (!modules.has(file)) modules.set(file, wasmModule(file));
    const module = await modules.get(file)!;
    let self: Vdso | undefined;
    const imports = vdsoImports(memory, () => self!); // replay swaps `counter` and `syscalls` on the instance
    const instance = await WebAssembly.instantiate(module, imports);
    self = new Vdso(instance, memory, opts.counter, opts.syscalls);
    return self;
  }

  /** A DataView of the memory, made again only when the memory grew. */
  get view(): DataView {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
      this.dv = new DataView(this.buf);
    }
    return this.dv!;
  }

  /** The view bound last (undefined before the first bind). */
  bound?: View;

  /** Binds the instance to a view; throws, leaving the old view, if a page is misaligned or outside the store. */
  bind(view: View): void {
    const v = checkView(view, "view");
    const p = (a: number | undefined) => (a === undefined ? NO_PAGE : a);
    if (v.time === 0 || this.exports.bind(v.time, p(v.real), p(v.rng), p(v.arch), p(v.pvclock), p(v.hvclock)) !== 0) {
      throw new RangeError(`wasm-vdso: view ${JSON.stringify(v)} is not inside the page store`);
    }
    this.bound = v;
  }

  clockGettime(clock: number): ClockResult {
    const ret = this.exports.clock_gettime(clock, this.scratch);
    return ret === 0 ? { ret, ts: this.readTimespec(this.scratch) } : { ret };
  }

  clockGetres(clock: number): ClockResult {
    const ret = this.exports.clock_getres(clock, this.scratch);
    return ret === 0 ? { ret, ts: this.readTimespec(this.scratch) } : { ret };
  }

  gettimeofday(): { ret: number; sec?: bigint; usec?: bigint; minuteswest?: number; dsttime?: number } {
    const tv = this.scratch;
    const tz = tv + TIMEVAL_SIZE;
    const ret = this.exports.gettimeofday(tv, tz);
    if (ret !== 0) return { ret };
    const d = this.view;
    return { ret, sec: d.getBigInt64(tv, true), usec: d.getBigInt64(tv + 8, true), minuteswest: d.getInt32(tz, true), dsttime: d.getInt32(tz + 4, true) };
  }

  time(): bigint {
    return this.exports.time(0);
  }

  readTimespec(addr: number): Timespec {
    const d = this.view;
    return { sec: d.getBigInt64(addr, true), nsec: d.getBigInt64(addr + 8, true) };
  }

  /** Gives the slot back; the instance must not be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    slotsOfDropped.unregister(this);
    this.exports.set_slot(0); // no slot: a stray call finds nowhere to write
    // Unbound: a later call (`now` is the export itself) reads no page and, with no slot, gets -EFAULT.
    this.exports.bind(0, NO_PAGE, NO_PAGE, NO_PAGE, NO_PAGE, NO_PAGE);
    releaseSlot(this.memory, this.slotIdx);
  }
}

/** What a module's "vdso" imports ask of their host, read at each call (a replay swaps `counter` and `syscalls`). */
export interface VdsoHost {
  /** The counter the `rdtsc` import returns (the host's "CPU counter"). */
  counter: () => bigint;
  syscalls: Syscalls;
  /** Host random calls made (key fetches and fallbacks). */
  hostRandomCalls: number;
}

/**
 * The imports of every module that reads a store in `memory` (a build of this
 * package, or an AssemblyScript program that compiles the reader in): "vdso"
 * (the counter, and the syscalls answered into `memory`) and "env" (the
 * memory, AssemblyScript's abort).
 */
export function vdsoImports(memory: WebAssembly.Memory, host: () => VdsoHost) {
  let buf: ArrayBufferLike | undefined;
  let dv: DataView | undefined;
  const view = () => (buf === memory.buffer ? dv! : (dv = new DataView((buf = memory.buffer))));
  /** Answers a clock syscall into wasm memory (ptr 0 = NULL). */
  const sysClock = (r: SysResult<Timespec>, ptr: number): number => {
    if (typeof r === "number") return r;
    if (ptr !== 0) {
      const d = view();
      d.setBigInt64(ptr, r.sec, true);
      d.setBigInt64(ptr + 8, r.nsec, true);
    }
    return 0;
  };
  return {
    vdso: {
      rdtsc: () => host().counter(), // one closure, no BigInt arithmetic
      sys_clock_gettime: (clock: number, ts: number) => sysClock(host().syscalls.clock_gettime(clock), ts),
      sys_clock_getres: (clock: number, res: number) => sysClock(host().syscalls.clock_getres(clock), res),
      sys_gettimeofday: (tv: number, tz: number): number => {
        const r = host().syscalls.gettimeofday();
        if (typeof r === "number") return r;
        const d = view();
        if (tv !== 0) {
          d.setBigInt64(tv, r.sec, true);
          d.setBigInt64(tv + 8, r.usec, true);
        }
        if (tz !== 0) {
          d.setInt32(tz, r.minuteswest, true);
          d.setInt32(tz + 4, r.dsttime, true);
        }
        return 0;
      },
      // The host's secure source. Web Crypto refuses views of shared memory, so
      // the bytes go through a private buffer.
      sys_getrandom: (at: number, len: number, _flags: number): bigint => {
        host().hostRandomCalls++;
        const tmp = new Uint8Array(Math.min(len, 65536));
        for (let off = 0; off < len; off += tmp.length) {
          const n = Math.min(tmp.length, len - off);
          crypto.getRandomValues(tmp.subarray(0, n));
          new Uint8Array(memory.buffer, at + off, n).set(tmp.subarray(0, n));
        }
        return BigInt(len);
      },
    },
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, col: number) => {
        throw new Error(`wasm-vdso: abort at ${line}:${col}`);
      },
    },
  };
}
