/**
 * The testing build (build/testing.wasm, build/testing-shared.wasm; never
 * shipped): everything the shipped module exports, plus the primitives that
 * tests and the bench call directly. These take raw addresses and check
 * none of them: they are not for users.
 */
import { clock_gettime } from "./gettimeofday";
import { EFAULT } from "./layout";
import { slot } from "./view";

export * from "./index";
export { vdso_calc_ns } from "./gettimeofday";
export { mul_u64_u32_add_u64_shr } from "./math";
export { mul_u64_u64_hi } from "./counter";
export { vgetrandom } from "./getrandom";
export { chacha20_block, chacha20_blocks } from "./chacha";
// The layout as the wasm sees it, so a test can hold it equal to the host's.
export { vdso_clock, vdso_time_data, vdso_rng_data, vdso_timestamp, vdso_pages, vdso_clock_mode, vdso_arch_data } from "./layout";
export {
  STORE_START, STORE_END, READER_SLOTS, READER_SLOT_SIZE, MAX_READER_SLOTS, DATA_START, USER_START, VDSO_HRES, VDSO_COARSE, VDSO_RAW,
  VDSO_AUX, LOW_RES_NSEC,
} from "./layout";
export { reader_slot, vgetrandom_state, vgetrandom_opaque_params, wasi_errno } from "./layout";

/**
 * `n` calls of `clock_gettime` into this reader's slot in a wasm loop, exactly
 * as wasm code calling the entry point pays them (for measuring); returns the
 * last nsec, or an errno.
 */
export function read_loop(clock: i32, n: i32): i64 {
  const ts = slot;
  if (ts == 0) return -EFAULT;
  let acc: i64 = 0;
  for (let i = 0; i < n; i++) {
    const ret = clock_gettime(clock, ts);
    if (ret != 0) return ret;
    acc = load<i64>(ts, 8);
  }
  return acc;
}
