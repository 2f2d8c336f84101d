/** wasm-vdso: the exports of the module. */
export { bind, scratch_ts } from "./view";
export { clock_gettime, clock_getres, gettimeofday, time, vdso_calc_ns } from "./gettimeofday";
export { mul_u64_u32_add_u64_shr } from "./math";
// The layout as the wasm sees it, so a test can hold it equal to the host's.
export { vdso_clock, vdso_time_data, vdso_rng_data, vdso_timestamp, vdso_pages, vdso_clock_mode } from "./layout";
export { STORE_START, STORE_END, VDSO_HRES, VDSO_COARSE, VDSO_RAW, VDSO_AUX, LOW_RES_NSEC } from "./layout";
