/**
 * The copy path's `clock_time_get` without BigInt: a tiny wasm module sits
 * between the guest and JS. The guest calls it with its i64 precision; it
 * calls the vDSO's `wasi_time_ns` export directly (wasm to wasm: the i64 stays
 * an i64), then hands JS the result as two i32 halves and an errno. JS checks
 * the destination and writes the halves with two 32-bit stores. One wasm-to-JS
 * call per WASI call, as before, but no i64<->BigInt conversion at all (there
 * were three: the precision, the export's argument, its result).
 *
 * The module, in the text format:
 *
 *   (import "v" "time" (func $time (param i32 i64) (result i64)))
 *   (import "j" "put" (func $put (param i32 i32 i32 i32) (result i32)))
 *   (func (export "clock_time_get") (param $id i32) (param $prec i64) (param $out i32) (result i32)
 *     (local $t i64)
 *     (local.set $t (call $time (local.get $id) (local.get $prec)))
 *     (call $put (local.get $out)
 *       (i32.wrap_i64 (local.get $t))
 *       (i32.wrap_i64 (i64.shr_u (local.get $t) (i64.const 32)))
 *       (select (i32.wrap_i64 (i64.sub (i64.const 0) (local.get $t))) (i32.const 0)
 *               (i64.lt_s (local.get $t) (i64.const 0)))))
 */

const I32 = 0x7f;
const I64 = 0x7e;
const FUNC = 0x60;

const section = (id: number, body: number[]) => [id, body.length, ...body];
const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

const body = [
  1, 1, I64, // one local: $t
  0x20, 0, 0x20, 1, 0x10, 0, 0x21, 3, // t = time(id, prec)
  0x20, 2, // out
  0x20, 3, 0xa7, // lo
  0x20, 3, 0x42, 32, 0x88, 0xa7, // hi
  0x42, 0, 0x20, 3, 0x7d, 0xa7, // -t (the errno, when t < 0)
  0x41, 0, // 0
  0x20, 3, 0x42, 0, 0x53, // t < 0
  0x1b, // select
  0x10, 1, // call put
  0x0b,
];

const BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, [3, FUNC, 2, I32, I64, 1, I64, FUNC, 4, I32, I32, I32, I32, 1, I32, FUNC, 3, I32, I64, I32, 1, I32]),
  ...section(2, [2, ...str("v"), ...str("time"), 0, 0, ...str("j"), ...str("put"), 0, 1]),
  ...section(3, [1, 2]),
  ...section(7, [1, ...str("clock_time_get"), 0, 2]),
  ...section(10, [1, body.length, ...body]),
]);

let module: WebAssembly.Module | undefined;

/** What JS does with the halves: check `out`, write them (or answer the errno). */
export type Put = (out: number, lo: number, hi: number, err: number) => number;

/** A `clock_time_get(id, precision: i64, out)` import: a wasm function. */
export function clockTimeGetTrampoline(time: (id: number, precision: bigint) => bigint, put: Put): (id: number, precision: bigint, out: number) => number {
  module ??= new WebAssembly.Module(BYTES); // 61 bytes: synchronous compile is fine on any thread
  const inst = new WebAssembly.Instance(module, { v: { time }, j: { put } });
  return inst.exports.clock_time_get as (id: number, precision: bigint, out: number) => number;
}
