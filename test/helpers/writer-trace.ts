/**
 * The writer's accesses to its data store, recorded, and the seqlock rule
 * they must keep: every seq-protected block (a vdso_clock of the time page,
 * of a namespace page, of the shadow copy) is written only inside a window
 * opened by an atomic store of an odd seq and then an atomic load of that seq
 * (the barrier), and closed by an atomic store of an even seq; seq itself only
 * by atomic stores.
 */
import { STORE_END, STORE_START, vdso_arch_data, vdso_clock, vdso_time_data, vdso_timestamp, CLOCK_REALTIME, CS_HRES_COARSE } from "../../assembly/layout.ts";
import { DataStore } from "../../src/datastore.ts";
import { CLOCK_BLOCKS } from "../../src/kernel/vsyscall.ts";

export type Op =
  | "load" | "store" | "store2x32" // plain accesses (store2x32: a u64 as two u32 halves)
  | "atomicLoad" | "atomicStore"
  | "copy" | "set" | "fill"; // byte ranges
export interface Access {
  op: Op;
  method: string;
  addr: number;
  len: number;
  value?: number | bigint;
}
const WRITES = new Set<Op>(["store", "store2x32", "atomicStore", "copy", "set", "fill"]);

/** What each DataStore method is, as accesses. */
const METHODS: Record<string, (args: unknown[]) => Access> = {
  getU32: ([a]) => ({ op: "load", method: "getU32", addr: a as number, len: 4 }),
  getU64: ([a]) => ({ op: "load", method: "getU64", addr: a as number, len: 8 }),
  setU32: ([a, v]) => ({ op: "store", method: "setU32", addr: a as number, len: 4, value: v as number }),
  setI32: ([a, v]) => ({ op: "store", method: "setI32", addr: a as number, len: 4, value: v as number }),
  setU64: ([a, v]) => ({ op: "store", method: "setU64", addr: a as number, len: 8, value: v as bigint }),
  setU64n: ([a, v]) => ({ op: "store2x32", method: "setU64n", addr: a as number, len: 8, value: v as number }),
  storeU32Atomic: ([a, v]) => ({ op: "atomicStore", method: "storeU32Atomic", addr: a as number, len: 4, value: (v as number) >>> 0 }),
  loadU32Atomic: ([a]) => ({ op: "atomicLoad", method: "loadU32Atomic", addr: a as number, len: 4 }),
  storeU64Atomic: ([a, v]) => ({ op: "atomicStore", method: "storeU64Atomic", addr: a as number, len: 8, value: v as bigint }),
  loadU64Atomic: ([a]) => ({ op: "atomicLoad", method: "loadU64Atomic", addr: a as number, len: 8 }),
  copy: ([to, , len]) => ({ op: "copy", method: "copy", addr: to as number, len: len as number }),
};

/**
 * Records every access any DataStore makes until `stop()`: the methods above
 * on the prototype, and `set`/`fill` on the arrays `bytes()` hands out. Also
 * the namespace pages `allocPage` hands out.
 */
export function traceStores(): { trace: Access[]; nsPages: number[]; stop(): void; pause(on: boolean): void } {
  const trace: Access[] = [];
  const nsPages: number[] = [];
  const proto = DataStore.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved: Record<string, (...a: unknown[]) => unknown> = {};
  let paused = false;
  for (const [name, toAccess] of Object.entries(METHODS)) {
    const orig = (saved[name] = proto[name]);
    proto[name] = function (this: DataStore, ...args: unknown[]) {
      if (!paused) trace.push(toAccess(args));
      return orig.apply(this, args);
    };
  }
  const origBytes = (saved.bytes = proto.bytes);
  proto.bytes = function (this: DataStore, addr: unknown, len: unknown) {
    const u8 = origBytes.call(this, addr, len) as Uint8Array;
    const at = u8.byteOffset;
    u8.set = (src: ArrayLike<number>, off = 0) => {
      if (!paused) trace.push({ op: "set", method: "bytes().set", addr: at + off, len: src.length });
      Uint8Array.prototype.set.call(u8, src, off);
    };
    u8.fill = (v: number, s = 0, e = u8.length) => {
      if (!paused) trace.push({ op: "fill", method: "bytes().fill", addr: at + s, len: e - s });
      return Uint8Array.prototype.fill.call(u8, v, s, e);
    };
    return u8;
  };
  const origAlloc = (saved.allocPage = proto.allocPage);
  proto.allocPage = function (this: DataStore) {
    const p = origAlloc.call(this) as number;
    nsPages.push(p);
    return p;
  };
  return {
    trace,
    nsPages,
    stop: () => Object.assign(proto, saved),
    pause: (on) => (paused = on),
  };
}

/** The seq-protected blocks of a store: [start, end) each, seq at start. */
export function blocksOf(store: DataStore, nsPages: number[] = []): number[] {
  const pages = [store.time, store.arch + vdso_arch_data.shadow, ...nsPages];
  return pages.flatMap((p) => CLOCK_BLOCKS.map((off) => p + off));
}

export interface Verdict {
  errors: string[];
  /** Blocks left in a window (odd) at the end, by start address. */
  open: Set<number>;
  /** Windows completed (odd, barrier, even) per block. */
  windows: Map<number, number>;
  /** Blocks whose fields were written. */
  written: Set<number>;
}

/**
 * Checks a trace against the rule. Every block starts outside any window: a
 * window left open before the trace (a closed store, a namespace page) does
 * not allow writes in it; each needs its own begin and barrier.
 */
export function checkTrace(trace: readonly Access[], blocks: readonly number[]): Verdict {
  const state = new Map<number, "closed" | "begun" | "open">(blocks.map((b) => [b, "closed"]));
  const v: Verdict = { errors: [], open: new Set(), windows: new Map(), written: new Set() };
  const at = (a: Access, i: number) => `#${i} ${a.method}(0x${a.addr.toString(16)}, ${a.len}${a.value === undefined ? "" : `, ${a.value}`})`;
  trace.forEach((a, i) => {
    for (const b of blocks) {
      const end = b + vdso_clock.SIZE;
      if (a.addr >= end || a.addr + a.len <= b) continue;
      const s = state.get(b)!;
      const onSeq = a.addr < b + 4; // seq is the block's first word
      if (a.op === "atomicLoad" && a.addr === b && a.len === 4) {
        if (s === "begun") state.set(b, "open"); // the barrier
      } else if (a.op === "atomicStore" && a.addr === b && a.len === 4) {
        if (((a.value as number) & 1) === 1) state.set(b, "begun");
        else if (s !== "open") v.errors.push(`${at(a, i)}: even seq of block 0x${b.toString(16)} ${s === "begun" ? "after its odd seq with no barrier" : "with no window open"}`);
        else {
          state.set(b, "closed");
          v.windows.set(b, (v.windows.get(b) ?? 0) + 1);
        }
      } else if (WRITES.has(a.op)) {
        if (onSeq) v.errors.push(`${at(a, i)}: seq of block 0x${b.toString(16)} written other than by an atomic u32 store`);
        else if (s !== "open") v.errors.push(`${at(a, i)}: field of block 0x${b.toString(16)} written ${s === "begun" ? "after its odd seq with no barrier" : "outside a window"}`);
        else v.written.add(b);
      }
    }
  });
  for (const [b, s] of state) if (s !== "closed") v.open.add(b);
  return v;
}

/** REALTIME's seconds, which time() reads with one 64-bit load and no seq. */
export const realtimeSecAt = (store: DataStore) =>
  store.time + vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE + vdso_clock.basetime + CLOCK_REALTIME * vdso_timestamp.SIZE + vdso_timestamp.sec;

/** Every write touching REALTIME's seconds that is not one 64-bit atomic store of exactly them. */
export function tornSecondWrites(trace: readonly Access[], store: DataStore): Access[] {
  const sec = realtimeSecAt(store);
  return trace.filter((a) => WRITES.has(a.op) && a.addr < sec + 8 && a.addr + a.len > sec && !(a.method === "storeU64Atomic" && a.addr === sec));
}

/** The store region's bytes now, to find later which changed. */
export const snapshot = (memory: WebAssembly.Memory) => new Uint8Array(memory.buffer, STORE_START, STORE_END - STORE_START).slice();

/** Bytes of the blocks that changed since `before` and that no recorded write covers (a write bypassing the DataStore). */
export function unrecordedChanges(memory: WebAssembly.Memory, before: Uint8Array, trace: readonly Access[], blocks: readonly number[]): number[] {
  const now = new Uint8Array(memory.buffer);
  const covered = (addr: number) => trace.some((a) => WRITES.has(a.op) && addr >= a.addr && addr < a.addr + a.len);
  const out: number[] = [];
  for (const b of blocks) for (let x = b; x < b + vdso_clock.SIZE; x++) if (now[x] !== before[x - STORE_START] && !covered(x)) out.push(x);
  return out;
}
