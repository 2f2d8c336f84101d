/**
 * Comparison loops for the benchmark (not shipped): the same N-iteration wasm
 * loop around other ways to get time, so every row pays the same loop.
 */
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, out: usize): u16;
@external("env", "counter")
declare function counter(): u64;
@external("env", "nop")
declare function nop(): u64;

const out = memory.data(8, 8);

/** `n` WASI clock_time_get calls; returns the last time, or the errno as a negative. */
export function wasi_loop(n: i32, id: u32): i64 {
  for (let i = 0; i < n; i++) {
    const err = clock_time_get(id, 1, out);
    if (err != 0) return -(<i64>err);
  }
  return load<i64>(out);
}

/** `n` calls of the host's counter import (what host-call mode wraps). */
export function counter_loop(n: i32): u64 {
  let acc: u64 = 0;
  for (let i = 0; i < n; i++) acc ^= counter();
  return acc;
}

/** `n` calls of an import that does nothing: the floor of any host call. */
export function nop_loop(n: i32): u64 {
  let acc: u64 = 0;
  for (let i = 0; i < n; i++) acc ^= nop();
  return acc;
}
