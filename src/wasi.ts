/**
 * A WASI preview1 provider: `clock_time_get`, `clock_res_get` and `random_get`
 * answered by the wasm vDSO, to spread over any runtime's import object
 * (node:wasi, @bjorn3/browser_wasi_shim), overriding only those three.
 */
import { reader_slot } from "../assembly/layout.ts";
import { bridgeOf, type Reader } from "./reader.ts";

export interface WasiClockImports {
  clock_time_get(id: number, precision: bigint, out: number): number;
  clock_res_get(id: number, out: number): number;
  random_get(buf: number, len: number): number;
}

const ERRNO_FAULT = 21;

/**
 * For a guest with its own memory: results are made in this reader's slot by
 * wasm, then copied into the guest's memory (one JS call per WASI call).
 * `guestMemory` is asked at call time, so it can be bound after instantiation.
 */
export function wasiClockImports(reader: Reader, guestMemory: () => WebAssembly.Memory): WasiClockImports {
  const vdso = bridgeOf(reader);
  const e = vdso.exports;
  const result = vdso.scratch + reader_slot.result;
  const chunk = vdso.scratch + reader_slot.chunk;
  const copy = (from: number, to: number, len: number): boolean => {
    const dst = guestMemory().buffer;
    if (to < 0 || to + len > dst.byteLength) return false;
    new Uint8Array(dst, to, len).set(new Uint8Array(vdso.memory.buffer, from, len));
    return true;
  };
  // One DataView per guest buffer (it changes only when the guest's memory grows).
  let buf: ArrayBufferLike | undefined;
  let view: DataView | undefined;
  const guestView = () => {
    const b = guestMemory().buffer;
    if (b !== buf) {
      buf = b;
      view = new DataView(b);
    }
    return view!;
  };
  return {
    clock_time_get(id, precision, out) {
      const t = e.wasi_time_ns(id, precision);
      if (t < 0n) return Number(-t);
      const v = guestView();
      if (out < 0 || out + 8 > v.byteLength) return ERRNO_FAULT;
      v.setBigUint64(out, t, true);
      return 0;
    },
    clock_res_get(id, out) {
      const err = e.wasi_clock_res_get(id, result + 16);
      if (err !== 0) return err;
      return copy(result + 16, out, 8) ? 0 : ERRNO_FAULT;
    },
    random_get(buf, len) {
      for (let off = 0; off < len; off += reader_slot.CHUNK_SIZE) {
        const n = Math.min(reader_slot.CHUNK_SIZE, len - off);
        const err = e.wasi_random_get(chunk, n);
        if (err !== 0) return err;
        if (!copy(chunk, buf + off, n)) return ERRNO_FAULT;
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
