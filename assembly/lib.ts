/**
 * wasm-vdso as an AssemblyScript library: `import { now_ns, … } from
 * "wasm-vdso/assembly/lib"` compiles the reader into your module, and
 * `now_ns` inlines the whole read (seqlock, counter, arithmetic) where you
 * call it: no call, no host, in your loop.
 *
 * Your program must
 * - re-export the binding: `export { bind, set_slot } from "wasm-vdso/assembly/lib";`
 *   (the host binds your instance to a store's pages and gives it a reader slot);
 * - be built with `assembly/asconfig.lib.json` (import the store's memory,
 *   static data from USER_START, threads, the stub runtime);
 * - be instantiated by the host with `instantiateProgram` (imports, view, slot).
 * Result pointers must lie in user memory (your static data, heap and
 * buffers all do: memoryBase is USER_START); any other gets -EFAULT.
 */
import { fast_value, value_slow } from "./gettimeofday";

/** Clock ids, errno values and the memory map (USER_START: where your memory begins). */
export * from "./layout";
/** The host binds your instance with these: re-export them from your entry file. */
export { bind, set_slot } from "./view";
/** The vDSO entry points, each checking its pointers (user memory only). */
export { clock_gettime, clock_getres, gettimeofday, time } from "./gettimeofday";
/** `random_get(buf, len)`: vgetrandom with this instance's state: 0, or a WASI errno (21: fault). */
export { wasi_random_get as getrandom } from "./wasi";

/**
 * `clock`'s time in nanoseconds as one i64, or a negated errno. The common
 * read of the REALTIME/MONOTONIC/BOOTTIME/TAI/MONOTONIC_RAW clocks is inlined
 * into the caller as one straight pass (no call, no loop); the rest (and a
 * writer mid-update) take one call, the full read through this instance's slot.
 */
@inline
export function now_ns(clock: i32): i64 {
  const v = fast_value(clock);
  return v >= 0 ? v : value_slow(clock);
}
