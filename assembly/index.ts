/**
 * wasm-vdso: the exports of the shipped module (build/release*.wasm,
 * build/debug.wasm). Each writes only into user memory (from USER_START up)
 * or into the calling instance's own reader slot. Test and bench primitives
 * live in testing.ts, a separate build.
 */
export { bind, set_slot } from "./view";
export { clock_gettime, clock_getres, gettimeofday, time, clock_gettime_ns, clock_gettime_f64 } from "./gettimeofday";
export { wasi_clock_time_get, wasi_clock_res_get, wasi_random_get, wasi_time_ns } from "./wasi";
