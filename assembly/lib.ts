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
import { reader_slot, NSEC_PER_SEC } from "./layout";
import { clock_gettime, fast_value } from "./gettimeofday";
import { slot } from "./view";

/** Clock ids, errno values and the memory map (USER_START: where your memory begins). */
export * from "./layout";
/** The host binds your instance with these: re-export them from your entry file. */
export { bind, set_slot } from "./view";
/** The vDSO entry points, each checking its pointers (user memory only). */
export { clock_gettime, clock_getres, gettimeofday, time } from "./gettimeofday";
/** `random_get(buf, len)`: vgetrandom with this instance's state: 0, or a WASI errno (21: fault). */
export { wasi_random_get as getrandom } from "./wasi";

/**
 * `clock`'s time in nanoseconds as one i64, or a negated errno. The read of
 * the REALTIME/MONOTONIC/BOOTTIME/TAI clocks is inlined into the caller; the
 * rest (and a writer mid-update) take one call through this instance's slot.
 */
@inline
export function now_ns(clock: i32): i64 {
  const v = fast_value(clock);
  return v >= 0 ? v : now_ns_slow(clock);
}

/** `now_ns` through a timespec in this instance's slot (-EFAULT before the host set one). */
function now_ns_slow(clock: i32): i64 {
  const ts = slot + reader_slot.result;
  const ret = clock_gettime(clock, slot == 0 ? 0 : ts);
  if (ret != 0) return ret;
  return load<i64>(ts) * NSEC_PER_SEC + load<i64>(ts, 8);
}
