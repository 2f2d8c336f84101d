/**
 * The bridge: instantiates the wasm vDSO, owns its memory views, binds a
 * reader's view and answers the module's imports (the counter and the
 * syscalls). Everything else in src/ talks to the wasm through this file.
 */
import { MAX_READER_SLOTS, NO_PAGE, reader_slot, READER_SLOT_SIZE, READER_SLOTS, TIMEVAL_SIZE, vdso_pages } from "../assembly/layout.ts";

/** A `struct timespec`. `sec` is s64, kept as a BigInt so no digit is lost. */
export interface Timespec {
  sec: bigint;
  nsec: number;
}

/** What the syscall fallback answers: a value, or a negated errno. */
export type SysResult<T> = T | number;

/** The host kernel behind the vDSO: asked only where the vDSO falls back. */
export interface Syscalls {
  clock_gettime(clock: number): SysResult<Timespec>;
  clock_getres(clock: number): SysResult<Timespec>;
  gettimeofday(): SysResult<{ sec: bigint; usec: number; minuteswest: number; dsttime: number }>;
}

/** The pages a reader sees, as byte addresses in wasm memory (NO_PAGE where absent). */
export interface View {
  time: number;
  real?: number;
  rng?: number;
  arch?: number;
  pvclock?: number;
  hvclock?: number;
}

/** A `clock_gettime`/`clock_getres` result: ret 0 with a value, or a negated errno. */
export interface ClockResult {
  ret: number;
  ts?: Timespec;
}

interface Exports {
  memory: WebAssembly.Memory;
  bind(time: number, real: number, rng: number, arch: number, pvclock: number, hvclock: number): number;
  mul_u64_u64_hi(a: bigint, b: bigint): bigint;
  clock_gettime(clock: number, ts: number): number;
  clock_getres(clock: number, res: number): number;
  gettimeofday(tv: number, tz: number): number;
  time(t: number): bigint;
  vdso_calc_ns(vc: number, cycles: bigint, base: bigint): bigint;
  mul_u64_u32_add_u64_shr(a: bigint, mul: number, b: bigint, shift: number): bigint;
  set_slot(p: number): number;
  clock_gettime_ns(clock: number): bigint;
  clock_gettime_f64(clock: number): number;
  read_loop(clock: number, n: number): bigint;
  vgetrandom(buf: number, len: number, flags: number, state: number, opaqueLen: number): bigint;
  chacha20_block(out: number, key: number, w12: number, w13: number, w14: number, w15: number): void;
  chacha20_blocks(dst: number, key: number, counter: number, nblocks: number): void;
  wasi_clock_time_get(id: number, precision: bigint, out: number): number;
  wasi_clock_res_get(id: number, out: number): number;
  wasi_random_get(buf: number, len: number): number;
  wasi_time_ns(id: number, precision: bigint): bigint;
  [name: string]: unknown;
}

/** debug and release own their memory; shared imports a shared one. */
export type Build = "release" | "debug" | "shared";

const wasmUrl = (build: Build) => new URL(`../build/${build}.wasm`, import.meta.url);

/** The module's bytes: read from disk under Node, fetched elsewhere (bundlers rewrite the URL). */
async function wasmModule(build: Build): Promise<WebAssembly.Module> {
  const url = wasmUrl(build);
  if (typeof process !== "undefined" && process.versions?.node) {
    const { readFile } = await import("node:fs/promises");
    return WebAssembly.compile(await readFile(url));
  }
  return WebAssembly.compileStreaming(fetch(url));
}

const modules = new Map<Build, Promise<WebAssembly.Module>>();

/** Takes the next free reader slot of a memory (slot 0 is the counter). */
export function allocSlot(memory: WebAssembly.Memory): number {
  const idx = Atomics.add(new Int32Array(memory.buffer, READER_SLOTS, 1), 0, 1) + 1;
  if (idx >= MAX_READER_SLOTS) throw new RangeError(`wasm-vdso: more than ${MAX_READER_SLOTS - 1} readers on one memory`);
  return READER_SLOTS + idx * READER_SLOT_SIZE;
}

/** A shared memory sized for the data store and readers' slots (needs cross-origin isolation in browsers). */
export function sharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 25, maximum: 64, shared: true });
}

/** A wasm vDSO instance. */
export class Vdso {
  readonly exports: Exports;
  readonly memory: WebAssembly.Memory;
  /** This instance's result slot: outside the store, never shared with another reader. */
  readonly scratch: number;
  /**
   * A reading in ns as a number (no allocation; exact below 2^53 ns), or a
   * negated errno. This instance's wasm export itself, not a method wrapping
   * it: a call site that sees one function gets V8's inlined JS-to-wasm call;
   * a shared method called for two instances would go through the generic one.
   */
  readonly nowF64: (clock: number) => number;
  /** A reading in ns as a BigInt (allocates), or a negated errno. Also the export itself. */
  readonly nowNs: (clock: number) => bigint;
  /** The counter the `rdtsc` import returns (the host's "CPU counter"). */
  counter: () => bigint;
  syscalls: Syscalls;

  private constructor(instance: WebAssembly.Instance, counter: () => bigint, syscalls: Syscalls) {
    this.exports = instance.exports as unknown as Exports;
    this.memory = this.exports.memory;
    this.nowF64 = this.exports.clock_gettime_f64;
    this.nowNs = this.exports.clock_gettime_ns;
    this.scratch = allocSlot(this.memory);
    if (this.exports.set_slot(this.scratch) !== 0) throw new RangeError("wasm-vdso: reader slot outside memory");
    this.counter = counter;
    this.syscalls = syscalls;
  }

  /**
   * A reader. With `memory` (a shared WebAssembly.Memory, e.g. from another
   * thread's kernel) it reads the pages there; else it owns a fresh memory.
   */
  static async create(opts: { counter: () => bigint; syscalls: Syscalls; build?: Build; memory?: WebAssembly.Memory }): Promise<Vdso> {
    const build = opts.memory ? "shared" : (opts.build ?? "release");
    if (!modules.has(build)) modules.set(build, wasmModule(build));
    const module = await modules.get(build)!;
    let self: Vdso | undefined;
    // The module's own imports live under "vdso" (the counter and the syscalls);
    // "env" carries only the memory (shared build) and AssemblyScript's abort.
    const imports = {
      vdso: {
        rdtsc: () => self!.counter(), // replay swaps `counter`; one closure, no BigInt arithmetic
        sys_clock_gettime: (clock: number, ts: number) => self!.sysClock(self!.syscalls.clock_gettime(clock), ts),
        sys_clock_getres: (clock: number, res: number) => self!.sysClock(self!.syscalls.clock_getres(clock), res),
        sys_gettimeofday: (tv: number, tz: number) => self!.sysGettimeofday(tv, tz),
        sys_getrandom: (buf: number, len: number, _flags: number) => self!.sysGetrandom(buf, len),
      },
      env: {
        ...(opts.memory ? { memory: opts.memory } : {}),
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`wasm-vdso: abort at ${line}:${col}`);
        },
      },
    };
    const instance = await WebAssembly.instantiate(module, imports);
    self = new Vdso(instance, opts.counter, opts.syscalls);
    return self;
  }

  /** A fresh DataView (memory.buffer is replaced if memory grows). */
  get view(): DataView {
    return new DataView(this.memory.buffer);
  }

  /** Binds the reader to a view; throws if a page is misaligned or outside the store. */
  bind(v: View): void {
    const p = (a: number | undefined) => (a === undefined ? NO_PAGE : a);
    if (this.exports.bind(v.time, p(v.real), p(v.rng), p(v.arch), p(v.pvclock), p(v.hvclock)) !== 0) {
      throw new RangeError(`wasm-vdso: view ${JSON.stringify(v)} is not inside the page store`);
    }
  }

  clockGettime(clock: number): ClockResult {
    const ret = this.exports.clock_gettime(clock, this.scratch);
    return ret === 0 ? { ret, ts: this.readTimespec(this.scratch) } : { ret };
  }

  clockGetres(clock: number): ClockResult {
    const ret = this.exports.clock_getres(clock, this.scratch);
    return ret === 0 ? { ret, ts: this.readTimespec(this.scratch) } : { ret };
  }

  gettimeofday(): { ret: number; sec?: bigint; usec?: number; minuteswest?: number; dsttime?: number } {
    const tv = this.scratch;
    const tz = tv + TIMEVAL_SIZE;
    const ret = this.exports.gettimeofday(tv, tz);
    if (ret !== 0) return { ret };
    const d = this.view;
    return {
      ret,
      sec: d.getBigInt64(tv, true),
      usec: Number(d.getBigInt64(tv + 8, true)),
      minuteswest: d.getInt32(tz, true),
      dsttime: d.getInt32(tz + 4, true),
    };
  }

  time(): bigint {
    return this.exports.time(0);
  }

  readTimespec(addr: number): Timespec {
    const d = this.view;
    return { sec: d.getBigInt64(addr, true), nsec: Number(d.getBigInt64(addr + 8, true)) };
  }

  private writeTimespec(addr: number, ts: Timespec): void {
    const d = this.view;
    d.setBigInt64(addr, ts.sec, true);
    d.setBigInt64(addr + 8, BigInt(ts.nsec), true);
  }

  /** Answers a clock syscall into wasm memory (ptr 0 = NULL). */
  private sysClock(r: SysResult<Timespec>, ptr: number): number {
    if (typeof r === "number") return r;
    if (ptr !== 0) this.writeTimespec(ptr, r);
    return 0;
  }

  private sysGettimeofday(tv: number, tz: number): number {
    const r = this.syscalls.gettimeofday();
    if (typeof r === "number") return r;
    const d = this.view;
    if (tv !== 0) {
      d.setBigInt64(tv, r.sec, true);
      d.setBigInt64(tv + 8, BigInt(r.usec), true);
    }
    if (tz !== 0) {
      d.setInt32(tz, r.minuteswest, true);
      d.setInt32(tz + 4, r.dsttime, true);
    }
    return 0;
  }

  /** Host random calls made (key fetches and fallbacks): a vDSO getrandom makes one per generation. */
  hostRandomCalls = 0;
  hostRandomBytes = 0;

  /**
   * The getrandom syscall: the host's secure source. Web Crypto refuses views
   * of shared memory, so the bytes go through a private buffer.
   */
  private sysGetrandom(buf: number, len: number): bigint {
    this.hostRandomCalls++;
    this.hostRandomBytes += len;
    const tmp = new Uint8Array(Math.min(len, 65536));
    for (let off = 0; off < len; off += tmp.length) {
      const n = Math.min(tmp.length, len - off);
      crypto.getRandomValues(tmp.subarray(0, n));
      new Uint8Array(this.memory.buffer, buf + off, n).set(tmp.subarray(0, n));
    }
    return BigInt(len);
  }

  /** `len` random bytes from the vDSO's getrandom (this reader's own state). */
  getrandom(len: number): Uint8Array {
    const out = new Uint8Array(len);
    const chunk = this.scratch + reader_slot.chunk;
    for (let off = 0; off < len; off += reader_slot.CHUNK_SIZE) {
      const n = Math.min(reader_slot.CHUNK_SIZE, len - off);
      const err = this.exports.wasi_random_get(chunk, n);
      if (err !== 0) throw new Error(`wasm-vdso: random_get failed (WASI errno ${err})`);
      out.set(new Uint8Array(this.memory.buffer, chunk, n), off);
    }
    return out;
  }

  /** Copies whole pages into the store at `addr` (a page-aligned store address). */
  writePages(addr: number, pages: Uint8Array): void {
    if (addr % vdso_pages.PAGE_SIZE !== 0) throw new RangeError("page address not aligned");
    new Uint8Array(this.memory.buffer, addr, pages.length).set(pages);
  }
}

