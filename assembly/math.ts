/** Exact u64 arithmetic of the read path (include/vdso/math64.h); AS has no u128. */

/** `floor((a * mul + b) / 2^shift)` truncated to 64 bits, exact for every shift < 128. */
export function mul_u64_u32_add_u64_shr(a: u64, mul: u32, b: u64, shift: u32): u64 {
  const m = <u64>mul;
  // a * mul + b as a 128-bit hi:lo, built from two 32x32 products.
  const p = (a >> 32) * m; // weight 2^32
  let lo = (a & 0xffffffff) * m;
  let hi = p >> 32;
  lo += b;
  if (lo < b) hi++;
  const plo = p << 32;
  lo += plo;
  if (lo < plo) hi++;
  return shr128(hi, lo, shift);
}

@inline
function shr128(hi: u64, lo: u64, shift: u32): u64 {
  shift &= 127;
  if (shift == 0) return lo;
  if (shift < 64) return (lo >> shift) | (hi << (64 - shift));
  return hi >> (shift - 64);
}

/** Remainder of the last `iter_div_u64_rem`. */
export let div_rem: u64 = 0;

/**
 * `__iter_div_u64_rem(ns, NSEC_PER_SEC)`: quotient as u32, remainder in `div_rem`.
 * The kernel subtracts in a loop because the quotient is nearly always 0 or 1.
 * Past a few rounds we divide: same quotient (mod 2^32) and remainder, but a
 * wild counter cannot make the reader spin for seconds.
 */
@inline
export function iter_div_u64_rem(ns: u64, divisor: u64): u32 {
  let q: u32 = 0;
  while (ns >= divisor && q < 4) {
    ns -= divisor;
    q++;
  }
  if (ns >= divisor) {
    q += <u32>(ns / divisor);
    ns %= divisor;
  }
  div_rem = ns;
  return q;
}
