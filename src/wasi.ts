/**
 * A WASI preview1 provider: `clock_time_get`, `clock_res_get` and `random_get`
 * answered by the wasm vDSO, to spread over any runtime's import object
 * (node:wasi, @bjorn3/browser_wasi_shim), overriding only those three.
 */
import { reader_slot, USER_START, wasi_errno } from "../assembly/layout.ts";
import { bridgeOf, type Reader } from "./reader.ts";

export interface WasiClockImports {
  clock_time_get(id: number, precision: bigint, out: number): number;
  clock_res_get(id: number, out: number): number;
  random_get(buf: number, len: number): number;
}

const ERRNO_FAULT: number = wasi_errno.FAULT;
const ERRNO_OVERFLOW: number = wasi_errno.OVERFLOW;
/** WASI sizes are u32; one whose i32 is negative (2^31 or more) is `overflow`, as node:wasi and the wasm export answer. */
const MAX_LEN = 0x7fffffff;

/**
 * `WebAssembly.Memory.prototype.buffer`'s getter: it brand-checks its receiver,
 * so it throws for anything that is not a real memory (`{}`, a spoofed
 * prototype, an object with its own `buffer`), yet accepts a memory of any realm.
 */
const memoryBuffer = Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer")!.get as (this: WebAssembly.Memory) => ArrayBufferLike;

/**
 * For a guest with its own memory: results are made in this reader's slot by
 * wasm, then copied into the guest's memory (one JS call per WASI call).
 * `guestMemory` is asked at call time, so it can be bound after instantiation.
 *
 * Every pointer and length is taken as u32 (wasm hands JS an i32), and the
 * whole destination is checked before any byte is written: a range past the
 * end of the guest's memory is `fault` (21), as is a guest memory that cannot
 * be had (the getter throws or gives something that is not a memory: there is
 * no memory for the pointer to be in). If the guest's memory is the vDSO's
 * own memory, only user memory (from USER_START) may be written, as on the
 * no-JS path: the store, the reader slots and the module's data are `fault`.
 */
export function wasiClockImports(reader: Reader, guestMemory: () => WebAssembly.Memory): WasiClockImports {
  const vdso = bridgeOf(reader);
  const e = vdso.exports;
  const result = vdso.scratch + reader_slot.result;
  const chunk = vdso.scratch + reader_slot.chunk;
  // The guest's current buffer and what is known of it, renewed only when the
  // buffer changes (the memory grew, or the getter gives another memory):
  // no allocation on a clock_time_get.
  let mem: WebAssembly.Memory | undefined; // the last getter result that passed the brand check
  let buf: ArrayBufferLike | undefined;
  let view: DataView | undefined;
  let low = 0; // lowest writable address: USER_START in the vDSO's own memory
  /** The guest's memory, current buffer and view, or false (for `fault`). */
  const resolve = (): boolean => {
    let m: WebAssembly.Memory;
    try {
      m = guestMemory();
    } catch {
      return false;
    }
    if (m !== mem || mem === undefined) {
      // A new object (or none validated yet): brand-checked once, then its `buffer` is read as usual.
      try {
        memoryBuffer.call(m);
      } catch {
        return false;
      }
      mem = m;
      buf = undefined;
    }
    const b = m.buffer;
    if (b !== buf) {
      buf = b;
      view = new DataView(b);
      low = m === vdso.memory || b === vdso.memory.buffer ? USER_START : 0;
    }
    return true;
  };
  // One view of the vDSO's memory too, for clock_res_get's copy.
  let vbuf: ArrayBufferLike | undefined;
  let vview: DataView | undefined;
  const vdsoView = () => {
    const b = vdso.memory.buffer;
    if (b !== vbuf) {
      vbuf = b;
      vview = new DataView(b);
    }
    return vview!;
  };
  /** `[to, to + len)` is writable in the guest's (resolved) memory; `to` and `len` are u32. */
  const writable = (to: number, len: number): boolean => to >= low && to + len <= view!.byteLength;
  return {
    clock_time_get(id, precision, out) {
      out >>>= 0;
      if (!resolve() || !writable(out, 8)) return ERRNO_FAULT;
      const t = e.wasi_time_ns(id, precision);
      if (t < 0n) return Number(-t);
      view!.setBigUint64(out, t, true);
      return 0;
    },
    clock_res_get(id, out) {
      out >>>= 0;
      if (!resolve() || !writable(out, 8)) return ERRNO_FAULT;
      const err = e.wasi_clock_res_get(id, result + 16);
      if (err !== 0) return err;
      view!.setBigUint64(out, vdsoView().getBigUint64(result + 16, true), true);
      return 0;
    },
    random_get(to, len) {
      to >>>= 0;
      len >>>= 0;
      if (len > MAX_LEN) return ERRNO_OVERFLOW;
      if (!resolve()) return ERRNO_FAULT;
      if (len === 0) return 0;
      if (!writable(to, len)) return ERRNO_FAULT;
      const m = mem!;
      for (let off = 0; off < len; off += reader_slot.CHUNK_SIZE) {
        const n = Math.min(reader_slot.CHUNK_SIZE, len - off);
        const err = e.wasi_random_get(chunk, n);
        // Buffers are taken afresh after each wasm call: one may have grown a memory (detaching its buffer).
        const src = new Uint8Array(vdso.memory.buffer, chunk, n);
        if (err === 0) new Uint8Array(m.buffer, to + off, n).set(src);
        src.fill(0); // handed out (or failed): the bytes do not stay in the slot
        if (err !== 0) return err;
      }
      return 0;
    },
  };
}

/**
 * For a guest whose memory is this reader's memory (it imports it, and keeps
 * its data above the vDSO's region): the imports are the wasm exports
 * themselves, so a WASI call never enters JS.
 */
export function wasiClockImportsNoJs(reader: Reader): WasiClockImports {
  const e = bridgeOf(reader).exports;
  return { clock_time_get: e.wasi_clock_time_get, clock_res_get: e.wasi_clock_res_get, random_get: e.wasi_random_get };
}
