/**
 * A WASI preview1 provider: `clock_time_get`, `clock_res_get`, `random_get`
 * and `poll_oneoff` answered by the wasm vDSO and the kernel, to spread over
 * any runtime's import object (node:wasi, @bjorn3/browser_wasi_shim),
 * overriding only those.
 *
 * - `wasiImports(opts)`: the provider for a guest (exact clocks unless told
 *   otherwise, sleeps on the kernel's clocks, optional seeded random_get).
 * - `createWasiProvider(opts)`: the same with the right kernel made for you.
 * - `wasiClockImports(reader, guestMemory)`: the three clock/random imports
 *   alone, on whatever clock the reader has (the building block).
 * - `wasiClockImportsNoJs(reader)`: the wasm exports themselves, for a guest
 *   that imports the store's memory.
 */
export { wasiClockImports, wasiClockImportsNoJs, type WasiClockImports } from "./wasi/clock.ts";
export { wasiImports, createWasiProvider, type WasiOptions, type WasiProvider, type WasiProviderOptions, type WasiImports } from "./wasi/provider.ts";
export type { PollStats } from "./wasi/poll.ts";
export type { Seed } from "./wasi/seeded.ts";
