/**
 * The "hardware counter" of each clock mode (x86 `__arch_get_hw_counter`).
 * An invalid read is U64_MAX: its sign bit set, `vdso_cycles_ok` rejects it
 * and the reader takes the syscall.
 */
import {
  NO_PAGE,
  PVCLOCK_TSC_STABLE_BIT,
  ms_hyperv_tsc_page as hv,
  pvclock_vcpu_time_info as pv,
  vdso_arch_data,
  vdso_clock_mode,
} from "./layout";
import { mul_u64_u32_add_u64_shr } from "./math";
import { CALL_SPIN_LIMIT, give_up, known_stuck, load_acquire } from "./seqlock";
import { arch_modes, vd_arch, vd_hvclock, vd_pvclock } from "./view";

/** The host's counter, standing in for RDTSC (replay: the snapshot's TSC). */
@external("vdso", "rdtsc")
export declare function rdtsc(): u64;

export const S64_MAX: u64 = 0x7fffffffffffffff;
export const U64_MAX: u64 = 0xffffffffffffffff;

/**
 * True if `mode` reads the arch page's counter word and this reader has that
 * page: then `counter_word` is the counter, and it is always valid. One
 * unsigned compare: SHARED_COUNTER and VIRTUAL are consecutive, and
 * arch_modes is 0 without the page.
 */
@inline
export function counter_in_memory(mode: i32): bool {
  return <u32>(mode - vdso_clock_mode.SHARED_COUNTER) < arch_modes;
}

/** The in-memory word, masked as x86 masks the TSC: its sign bit is clear, so `cycles_ok` holds. */
@inline
export function counter_word(): u64 {
  return atomic.load<u64>(vd_arch + vdso_arch_data.counter) & S64_MAX;
}

/** The counter of `mode`: the in-memory word inline, the rest by a call. */
@inline
export function get_hw_counter(mode: i32): u64 {
  if (counter_in_memory(mode)) return counter_word();
  return get_hw_counter_call(mode);
}

/**
 * The counter of every other mode, by a call (kept out of line: the read
 * path inlines only the word): TSC, pvclock, Hyper-V; U64_MAX for NONE, an
 * unknown mode, or the word without its page.
 */
export function get_hw_counter_call(mode: i32): u64 {
  if (mode == vdso_clock_mode.TSC) return rdtsc() & S64_MAX;
  if (mode == vdso_clock_mode.PVCLOCK) return vread_pvclock();
  if (mode == vdso_clock_mode.HVCLOCK) return vread_hvclock();
  return U64_MAX;
}

/** High 64 bits of a 64x64 product (`mul_u64_u64_shr(a, b, 64)`), in 32-bit pieces. */
export function mul_u64_u64_hi(a: u64, b: u64): u64 {
  const al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff, bh = b >> 32;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** x86 `hv_read_tsc_page`: the Hyper-V reference counter from the TSC page; sequence 0 = invalid. */
function vread_hvclock(): u64 {
  const p = vd_hvclock;
  if (p == <usize>NO_PAGE) return U64_MAX;
  let spins: u32 = 0;
  let sequence: u32, scale: u64, offset: u64, tsc: u64;
  do {
    sequence = atomic.load<u32>(p + hv.tsc_sequence);
    if (known_stuck(p + hv.tsc_sequence, sequence)) return U64_MAX;
    if (++spins > CALL_SPIN_LIMIT) {
      give_up(p + hv.tsc_sequence, sequence);
      return U64_MAX;
    }
    if (!sequence) return U64_MAX;
    scale = load_acquire<u64>(p + hv.tsc_scale);
    offset = load_acquire<u64>(p + hv.tsc_offset);
    tsc = rdtsc();
  } while (atomic.load<u32>(p + hv.tsc_sequence) != sequence);
  return mul_u64_u64_hi(tsc, scale) + offset;
}

/** `vdso_cycles_ok` on x86: a counter with the sign bit set is invalid. */
@inline
export function cycles_ok(cycles: u64): bool {
  return <i64>cycles >= 0;
}

/** x86 `vread_pvclock`: the pvclock page scales the TSC to nanoseconds. */
function vread_pvclock(): u64 {
  const p = vd_pvclock;
  if (p == <usize>NO_PAGE) return U64_MAX;
  let spins: u32 = 0;
  let version: u32;
  let ret: u64;
  do {
    // An odd version (the hypervisor mid-update) is retried below, each spin a
    // host call: bounded, and remembered once given up on.
    const v = atomic.load<u32>(p + pv.version);
    if ((v & 1) && known_stuck(p + pv.version, v)) return U64_MAX;
    if (++spins > CALL_SPIN_LIMIT) {
      give_up(p + pv.version, v);
      return U64_MAX;
    }
    version = v & ~1;
    if (!(load_acquire<u8>(p + pv.flags) & PVCLOCK_TSC_STABLE_BIT)) return U64_MAX;
    const stamp = load_acquire<u64>(p + pv.tsc_timestamp);
    let delta = rdtsc() - stamp;
    if (<i64>delta < 0) delta = 0;
    const shift = <i32>load_acquire<i8>(p + pv.tsc_shift);
    delta = shift < 0 ? delta >> <u64>(-shift) : delta << <u64>shift;
    const ns = mul_u64_u32_add_u64_shr(delta, load_acquire<u32>(p + pv.tsc_to_system_mul), 0, 32);
    ret = load_acquire<u64>(p + pv.system_time) + ns;
  } while (atomic.load<u32>(p + pv.version) != version);
  return ret & S64_MAX;
}
