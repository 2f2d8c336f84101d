/**
 * A WASI guest (test and bench program, not shipped): reads clocks and random
 * bytes only through WASI preview1 imports, as any WASI program would.
 */
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, out: usize): u16;
@external("wasi_snapshot_preview1", "clock_res_get")
declare function clock_res_get(id: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: usize, len: usize): u16;

const OUT = memory.data(8, 8);
/** Where random bytes land (4 KiB). */
export const RANDOM_BUF = memory.data(4096, 64);

/** clock_time_get: the time, or -(WASI errno). */
export function now(id: u32, precision: u64): i64 {
  const err = clock_time_get(id, precision, OUT);
  return err ? -(<i64>err) : load<i64>(OUT);
}

/** clock_res_get: the resolution, or -(WASI errno). */
export function res(id: u32): i64 {
  const err = clock_res_get(id, OUT);
  return err ? -(<i64>err) : load<i64>(OUT);
}

/** random_get of `len` (<= 4096) bytes into RANDOM_BUF: the WASI errno. */
export function random(len: usize): u32 {
  return random_get(RANDOM_BUF, len);
}

/** `n` clock_time_get calls (for measuring); the last time or -(errno). */
export function time_loop(n: i32, id: u32): i64 {
  for (let i = 0; i < n; i++) {
    const err = clock_time_get(id, 1, OUT);
    if (err) return -(<i64>err);
  }
  return load<i64>(OUT);
}

/** `n` random_get calls of `len` bytes (for measuring); 0 or the WASI errno. */
export function random_loop(n: i32, len: usize): u32 {
  for (let i = 0; i < n; i++) {
    const err = random_get(RANDOM_BUF, len);
    if (err) return err;
  }
  return 0;
}
