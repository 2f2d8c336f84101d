/**
 * The data store in wasm memory: the kernel's page order (time, timens, rng,
 * arch), then time-namespace pages as they are created. The kernel side
 * writes here; the wasm reader reads. Word accessors keep the byte order and
 * the atomics in one place.
 */
import { NO_PAGE, STORE_END, STORE_START, vdso_arch_data, vdso_pages } from "../assembly/layout.ts";

const PAGE = vdso_pages.PAGE_SIZE;

/** The pages a reader sees, as byte addresses in wasm memory (NO_PAGE where absent). */
export interface View {
  time: number;
  real?: number;
  rng?: number;
  arch?: number;
  pvclock?: number;
  hvclock?: number;
}

const VIEW_FIELDS = ["time", "real", "rng", "arch", "pvclock", "hvclock"] as const;

/**
 * A caller's view, checked and copied (each field read once, so what was
 * checked is what is bound): `time` a page address, every other field a page
 * address, NO_PAGE (-1, no such page) or absent. An address is an integer in
 * [0, 2^32): wasm takes it as an i32, and 2^32 + a would be bound as a. A
 * TypeError or RangeError names the field; whether each page lies inside the
 * store is the reader's own check when it binds.
 */
export function checkView(v: unknown, name: string): View {
  if (v === null || typeof v !== "object") {
    throw new TypeError(`wasm-vdso: ${name} must be a View ({ time, real?, rng?, arch?, pvclock?, hvclock? }), not ${v === null ? "null" : typeof v}`);
  }
  const o = v as Record<string, unknown>;
  const out: View = { time: NO_PAGE };
  for (const f of VIEW_FIELDS) {
    const a = o[f];
    if (a === undefined && f !== "time") continue;
    if (typeof a !== "number") throw new TypeError(`wasm-vdso: ${name}.${f} must be a page address (a number), not ${a === null ? "null" : typeof a}`);
    const absent = f !== "time" && a === NO_PAGE;
    if (!absent && !(Number.isInteger(a) && a >= 0 && a <= 0xffffffff)) {
      throw new RangeError(`wasm-vdso: ${name}.${f} must be an integer page address in [0, 2^32)${f === "time" ? "" : " or NO_PAGE (-1)"}, not ${a}`);
    }
    out[f] = a;
  }
  return out;
}

/** The arch page of a store at `base` (the writer's claim, heartbeat and shadow copy live there). */
export const archPage = (base = STORE_START) => base + vdso_pages.VDSO_ARCH_PAGES_START * PAGE;

/** Wasm pages of a store memory: the store, the readers' slots, the module's data (the asconfig targets say the same). */
export const MEMORY_PAGES = { initial: 25, maximum: 64 };

/** A memory for a data store and its readers; `shared` for readers in other threads (needs cross-origin isolation in browsers). */
export function storeMemory(shared = false): WebAssembly.Memory {
  return new WebAssembly.Memory({ ...MEMORY_PAGES, shared });
}

/** What every write of a kernel whose store another kernel adopted throws (kernel/adopt.ts: the claim is a fencing token). */
export class StoreAdoptedError extends Error {
  constructor() {
    super("wasm-vdso: this store was adopted by another kernel: this kernel no longer writes it");
  }
}

export class DataStore {
  /** `vdso_time_data`: the real time page. */
  readonly time: number;
  /** `vdso_rng_data`. */
  readonly rng: number;
  /** The arch page (this emulator's counter word). */
  readonly arch: number;
  /** The claim this store's writer holds (the fencing token); 0 for a store no claim guards ("plain"). */
  readonly token: number;
  private nextPage: number;
  private buf?: ArrayBufferLike;
  private shared = false;
  /** Made on first use, and again once its buffer detached (length 0). */
  private u8?: Uint8Array;
  private dv?: DataView;
  private u32?: Uint32Array;
  private u64?: BigUint64Array;
  /** storeU64AtomicN's last value and its BigInt. */
  private lastN = NaN;
  private lastBig = 0n;

  /**
   * A store at `base`. "plain": zeroed, no writer claimed (tests, replay).
   * "claim": the caller becomes its one writer; a store that already has one
   * is refused before anything is written. "adopt": the caller holds claim
   * `token` of a store it took over (kernel/adopt.ts winStore), and its pages
   * stay as they are.
   */
  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base = STORE_START,
    how: "plain" | "claim" | "adopt" = "plain",
    token = 0,
  ) {
    this.time = base + vdso_pages.VDSO_TIME_PAGE_OFFSET * PAGE;
    this.rng = base + vdso_pages.VDSO_RNG_PAGE_OFFSET * PAGE;
    this.arch = archPage(base);
    this.nextPage = base + vdso_pages.VDSO_NR_PAGES * PAGE;
    if (this.nextPage > STORE_END) throw new RangeError("data store does not fit in the store region");
    if (memory.buffer.byteLength < MEMORY_PAGES.initial * 65536) {
      throw new RangeError(`wasm-vdso: memory has ${memory.buffer.byteLength / 65536} wasm pages, a store needs ${MEMORY_PAGES.initial} (use storeMemory())`);
    }
    const claimAt = (this.arch + vdso_arch_data.writer) >> 2;
    const i32 = new Int32Array(memory.buffer);
    this.token = how === "claim" ? 1 : how === "adopt" ? token : 0;
    if (how === "adopt") {
      // The claim was won already (kernel/adopt.ts winStore): keep the pages, and the namespace pages handed out.
      this.nextPage += Atomics.load(i32, (this.arch + vdso_arch_data.ns_pages) >> 2) * PAGE;
      return;
    }
    if (how === "claim" && Atomics.compareExchange(i32, claimAt, 0, 1) !== 0) {
      throw new Error("wasm-vdso: this memory's data store already has a writer (one kernel per store; a dead or closed one can be adopted: { adopt: true })");
    }
    // Zero every page but the claim word, so a racing second kernel still sees it.
    new Uint8Array(memory.buffer, base, (claimAt << 2) - base).fill(0);
    new Uint8Array(memory.buffer, (claimAt << 2) + 4, this.nextPage - (claimAt << 2) - 4).fill(0);
  }

  /** Whether a writer holds this store's claim. */
  hasWriter(): boolean {
    return this.loadU32Atomic(this.arch + vdso_arch_data.writer) !== 0;
  }

  /** Whether the claim moved on from ours: another kernel adopted the store, and we must never write it again. One load. */
  fenced(): boolean {
    return this.token !== 0 && this.loadU32Atomic(this.arch + vdso_arch_data.writer) !== this.token;
  }

  /** The view of a task in the root time namespace. */
  rootView(): View {
    return { time: this.time, real: NO_PAGE, rng: this.rng, arch: this.arch };
  }

  /** A zeroed page for a time namespace, or NO_PAGE when the store region is full. */
  allocPage(): number {
    if (this.nextPage + PAGE > STORE_END) return NO_PAGE;
    const p = this.nextPage;
    this.nextPage += PAGE;
    this.storeU32Atomic(this.arch + vdso_arch_data.ns_pages, (this.nextPage - this.base) / PAGE - vdso_pages.VDSO_NR_PAGES);
    new Uint8Array(this.memory.buffer, p, PAGE).fill(0);
    return p;
  }

  /**
   * The views, made again only when the buffer they were made on is gone: a
   * plain memory's old buffer detaches on growth (its views' length drops to
   * 0); a shared one's stays valid over everything a store uses.
   * (`memory.buffer` itself is a slow getter on shared memory: it is not asked
   * on every access.)
   */
  private views(): void {
    if (this.u8 === undefined || this.u8.length === 0) {
      this.buf = this.memory.buffer;
      this.shared = typeof SharedArrayBuffer !== "undefined" && this.buf instanceof SharedArrayBuffer;
      this.u8 = new Uint8Array(this.buf);
      this.dv = new DataView(this.buf);
      this.u32 = new Uint32Array(this.buf);
      this.u64 = new BigUint64Array(this.buf);
    }
  }

  getU32(addr: number): number {
    this.views();
    return this.dv!.getUint32(addr, true);
  }
  setU32(addr: number, v: number): void {
    this.views();
    this.dv!.setUint32(addr, v >>> 0, true);
  }
  setI32(addr: number, v: number): void {
    this.views();
    this.dv!.setInt32(addr, v, true);
  }
  getU64(addr: number): bigint {
    this.views();
    return this.dv!.getBigUint64(addr, true);
  }
  setU64(addr: number, v: bigint): void {
    this.views();
    // A BigUint64Array store wraps mod 2^64 like asUintN, without the DataView
    // call; the host is little-endian, as the atomics on this memory assume.
    if ((addr & 7) === 0) this.u64![addr >>> 3] = v;
    else this.dv!.setBigUint64(addr, BigInt.asUintN(64, v), true);
  }
  /** A safe integer into a u64 field, as two u32 halves (two's complement, like setU64 of its bigint): no bigint made. */
  setU64n(addr: number, v: number): void {
    this.views();
    if ((addr & 3) !== 0) return this.setU64(addr, BigInt(v));
    this.u32![addr >>> 2] = v; // ToUint32: v mod 2^32
    this.u32![(addr >>> 2) + 1] = Math.floor(v / 0x1_0000_0000); // exact for a safe integer, mod 2^32 likewise
  }
  // The atomics: on a memory no other thread can see (not shared), a plain
  // access is the same access (Atomics only order it for other agents) and
  // costs a tenth.
  /** Sequentially consistent word store: the writer's barriers. */
  storeU32Atomic(addr: number, v: number): void {
    this.views();
    if (this.shared) Atomics.store(this.u32!, addr >>> 2, v >>> 0);
    else this.u32![addr >>> 2] = v;
  }
  loadU32Atomic(addr: number): number {
    this.views();
    return this.shared ? Atomics.load(this.u32!, addr >>> 2) : this.u32![addr >>> 2];
  }
  /**
   * The seqlock writer's begin barrier (kernel/seqlock.ts): an atomic store,
   * then an atomic load of the same word, which keeps every later store after
   * that store (ARM64 STLR; LDAR). Returns the value read back.
   */
  storeU32AtomicReadBack(addr: number, v: number): number {
    this.storeU32Atomic(addr, v);
    return this.loadU32Atomic(addr);
  }
  /** One 64-bit store, never two halves (a reader's single load sees it whole: time()). The store wraps mod 2^64. */
  storeU64Atomic(addr: number, v: bigint): void {
    this.views();
    if (this.shared) Atomics.store(this.u64!, addr >>> 3, v);
    else this.u64![addr >>> 3] = v;
  }
  /** storeU64Atomic of a safe integer, its BigInt made again only when it changes (REALTIME's seconds: once a second). */
  storeU64AtomicN(addr: number, v: number): void {
    if (v !== this.lastN) this.lastBig = BigInt((this.lastN = v));
    this.storeU64Atomic(addr, this.lastBig);
  }
  loadU64Atomic(addr: number): bigint {
    this.views();
    return this.shared ? Atomics.load(this.u64!, addr >>> 3) : this.u64![addr >>> 3];
  }
  /** Copies `len` bytes within the memory (the shadow copy: no view made, nothing allocated). */
  copy(to: number, from: number, len: number): void {
    this.views();
    this.u8!.copyWithin(to, from, from + len);
  }
  /** Wakes a worker waiting on the i32 at `addr` (shared memory only). */
  notify(addr: number): void {
    this.views();
    if (this.buf instanceof SharedArrayBuffer) Atomics.notify(new Int32Array(this.buf), addr >>> 2);
  }
  bytes(addr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, addr, len);
  }
}
