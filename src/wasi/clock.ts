/** The clock and random imports of the copy path and the no-JS path. */
import { reader_slot, wasi_errno } from "../../assembly/layout.ts";
import { bridgeOf, type Reader } from "../reader.ts";
import { GuestMemory } from "./guest-memory.ts";
import { clockTimeGetTrampoline } from "./trampoline.ts";


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
 * For a guest with its own memory: results are made in this reader's slot by
 * wasm, then copied into the guest's memory (one JS call per WASI call).
 * `guestMemory` is asked at call time, so it can be bound after instantiation.
 *
 * `clock_time_get` is a small wasm function that calls the vDSO directly and
 * hands JS the u64 as two i32 (no BigInt on the way: see wasi/trampoline.ts).
 *
 * Every pointer and length is taken as u32 (wasm hands JS an i32), and the
 * whole destination is checked before any byte is written: a range past the
 * end of the guest's memory is `fault` (21), as is a guest memory that cannot
 * be had (the getter throws or gives something that is not a memory: there is
 * no memory for the pointer to be in). If the guest's memory is the vDSO's
 * own memory, only user memory (from USER_START) may be written, as on the
 * no-JS path: the store, the reader slots and the module's data are `fault`.
 *
 * `beforeRandom` runs before each random_get (the seeded mode rekeys there).
 */
export function wasiClockImports(reader: Reader, guestMemory: () => WebAssembly.Memory, beforeRandom?: () => void): WasiClockImports {
  const vdso = bridgeOf(reader);
  const e = vdso.exports;
  const result = vdso.scratch + reader_slot.result;
  const chunk = vdso.scratch + reader_slot.chunk;
  const gm = new GuestMemory(guestMemory, vdso);
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
  // The fast path of the copy: the view of the memory last resolved, used while
  // its buffer is live (a grown non-shared memory detaches it: byteLength 0) and
  // the range lies inside it; anything else takes the full resolve (the getter,
  // the brand check) and checks again.
  let fastView: DataView | undefined;
  let fastBuf: ArrayBufferLike | undefined;
  let fastLow = 0;
  let fastLen = 0;
  const clock_time_get = clockTimeGetTrampoline(e.wasi_time_ns, (out, lo, hi, err) => {
    out >>>= 0;
    let v = fastView;
    if (v === undefined || fastBuf!.byteLength === 0 || out < fastLow || out + 8 > fastLen) {
      if (!gm.resolve() || !gm.writable(out, 8)) return ERRNO_FAULT;
      v = fastView = gm.view;
      fastBuf = v.buffer;
      fastLen = v.byteLength;
      fastLow = gm.low;
    }
    if (err !== 0) return err;
    v.setUint32(out, lo, true);
    v.setUint32(out + 4, hi, true);
    return 0;
  });
  return {
    clock_time_get,
    clock_res_get(id, out) {
      out >>>= 0;
      if (!gm.resolve() || !gm.writable(out, 8)) return ERRNO_FAULT;
      const err = e.wasi_clock_res_get(id, result + 16);
      if (err !== 0) return err;
      const s = vdsoView();
      const v = gm.view;
      v.setUint32(out, s.getUint32(result + 16, true), true);
      v.setUint32(out + 4, s.getUint32(result + 20, true), true);
      return 0;
    },
    random_get(to, len) {
      to >>>= 0;
      len >>>= 0;
      if (len > MAX_LEN) return ERRNO_OVERFLOW;
      if (!gm.resolve()) return ERRNO_FAULT;
      if (len === 0) return 0;
      if (!gm.writable(to, len)) return ERRNO_FAULT;
      beforeRandom?.();
      const m = gm.mem!;
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
