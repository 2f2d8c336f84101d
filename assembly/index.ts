/** wasm-vdso: the exports of the module. */
export { bind, set_slot } from "./view";
export { clock_gettime, clock_getres, gettimeofday, time, vdso_calc_ns, clock_gettime_ns, clock_gettime_f64, read_loop } from "./gettimeofday";
export { mul_u64_u32_add_u64_shr } from "./math";
export { mul_u64_u64_hi } from "./counter";
// The layout as the wasm sees it, so a test can hold it equal to the host's.
export { vdso_clock, vdso_time_data, vdso_rng_data, vdso_timestamp, vdso_pages, vdso_clock_mode, vdso_arch_data } from "./layout";
export { STORE_START, STORE_END, READER_SLOTS, READER_SLOT_SIZE, MAX_READER_SLOTS, DATA_START, VDSO_HRES, VDSO_COARSE, VDSO_RAW, VDSO_AUX, LOW_RES_NSEC } from "./layout";
export { vgetrandom } from "./getrandom";
export { chacha20_block, chacha20_blocks } from "./chacha";
export { wasi_clock_time_get, wasi_clock_res_get, wasi_random_get, wasi_time_ns } from "./wasi";
export { reader_slot, vgetrandom_state, vgetrandom_opaque_params } from "./layout";
