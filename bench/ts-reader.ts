/**
 * The read path of do_hres written in plain TypeScript over the same memory,
 * for the "what does wasm buy" row: same seqlock, same x86 calc_ns, BigInt
 * for the u64 arithmetic (JS has no other exact u64).
 */
import { CS_HRES_COARSE, NSEC_PER_SEC, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_time_data, vdso_timestamp } from "../assembly/layout.ts";
import type { View } from "../src/datastore.ts";

const M64 = (1n << 64n) - 1n;
const S64_MAX = (1n << 63n) - 1n;

/** A reader of `view` (its time and arch pages) in `memory`. */
export function tsReader(memory: WebAssembly.Memory, view: View) {
  const timePage = view.time;
  const archPage = view.arch;
  if (archPage === undefined) throw new Error("tsReader: the view has no arch page");
  const u32 = new Uint32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  const u64 = new BigUint64Array(memory.buffer);
  const vc = timePage + vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE;
  const counterAt = (archPage + vdso_arch_data.counter) >> 3;
  return function clockGettimeNs(clock: number): bigint {
    const bt = vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
    for (;;) {
      const seq = Atomics.load(u32, vc >> 2);
      if (seq & 1) continue;
      const mode = i32[(vc + vdso_clock.clock_mode) >> 2];
      if (mode !== vdso_clock_mode.SHARED_COUNTER && mode !== vdso_clock_mode.VIRTUAL) throw new Error("counter mode not readable from TS");
      const cycles = Atomics.load(u64, counterAt) & S64_MAX;
      const delta = (cycles - u64[(vc + vdso_clock.cycle_last) >> 3]) & M64;
      const mult = BigInt(u32[(vc + vdso_clock.mult) >> 2]);
      const shift = BigInt(u32[(vc + vdso_clock.shift) >> 2]);
      const base = u64[(bt + vdso_timestamp.nsec) >> 3];
      let ns: bigint;
      if (delta > u64[(vc + vdso_clock.max_cycles) >> 3]) ns = delta & (1n << 62n) ? base >> shift : ((delta & S64_MAX) * mult + base) >> shift;
      else ns = ((delta * mult + base) & M64) >> shift;
      const sec = u64[(bt + vdso_timestamp.sec) >> 3];
      if (Atomics.load(u32, vc >> 2) !== seq) continue;
      return sec * BigInt(NSEC_PER_SEC) + ns;
    }
  };
}
