/**
 * The data store in wasm memory: the kernel's page order (time, timens, rng,
 * arch), then time-namespace pages as they are created. The kernel side
 * writes here; the wasm reader reads. Word accessors keep the byte order and
 * the atomics in one place.
 */
import { NO_PAGE, STORE_END, STORE_START, vdso_pages } from "../assembly/layout.ts";
import type { View } from "./wasm.ts";

const PAGE = vdso_pages.PAGE_SIZE;

export class DataStore {
  /** `vdso_time_data`: the real time page. */
  readonly time: number;
  /** `vdso_rng_data`. */
  readonly rng: number;
  /** The arch page (this emulator's counter word). */
  readonly arch: number;
  private nextPage: number;
  private buf?: ArrayBufferLike;
  private dv?: DataView;
  private u32?: Uint32Array;
  private u64?: BigUint64Array;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base = STORE_START,
  ) {
    this.time = base + vdso_pages.VDSO_TIME_PAGE_OFFSET * PAGE;
    this.rng = base + vdso_pages.VDSO_RNG_PAGE_OFFSET * PAGE;
    this.arch = base + vdso_pages.VDSO_ARCH_PAGES_START * PAGE;
    this.nextPage = base + vdso_pages.VDSO_NR_PAGES * PAGE;
    if (this.nextPage > STORE_END) throw new RangeError("data store does not fit in the store region");
    new Uint8Array(memory.buffer, base, vdso_pages.VDSO_NR_PAGES * PAGE).fill(0);
  }

  /** The view of a task in the root time namespace. */
  rootView(): View {
    return { time: this.time, real: NO_PAGE, rng: this.rng, arch: this.arch };
  }

  /** A zeroed page for a time namespace. */
  allocPage(): number {
    if (this.nextPage + PAGE > STORE_END) throw new RangeError("wasm-vdso: the store region has no free page left");
    const p = this.nextPage;
    this.nextPage += PAGE;
    new Uint8Array(this.memory.buffer, p, PAGE).fill(0);
    return p;
  }

  private views(): void {
    if (this.buf !== this.memory.buffer) {
      this.buf = this.memory.buffer;
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
    this.dv!.setBigUint64(addr, BigInt.asUintN(64, v), true);
  }
  /** Sequentially consistent word store: the writer's barriers. */
  storeU32Atomic(addr: number, v: number): void {
    this.views();
    Atomics.store(this.u32!, addr >>> 2, v >>> 0);
  }
  loadU32Atomic(addr: number): number {
    this.views();
    return Atomics.load(this.u32!, addr >>> 2);
  }
  storeU64Atomic(addr: number, v: bigint): void {
    this.views();
    Atomics.store(this.u64!, addr >>> 3, BigInt.asUintN(64, v));
  }
  loadU64Atomic(addr: number): bigint {
    this.views();
    return Atomics.load(this.u64!, addr >>> 3);
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
