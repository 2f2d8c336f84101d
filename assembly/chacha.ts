/**
 * ChaCha20 block function (RFC 8439 §2.3), as the vDSO's
 * `__arch_chacha20_blocks_nostack`: the state lives in locals only (no
 * memory, so readers sharing a memory cannot disturb each other, and no copy
 * of the key is left behind), 20 rounds, output = working state + input,
 * little-endian. The vDSO uses nonce words 0 and a 64-bit block counter in
 * words 12-13. (The rounds are written out: AssemblyScript has no macros.)
 */

// "expand 32-byte k"
const C0: u32 = 0x61707865;
const C1: u32 = 0x3320646e;
const C2: u32 = 0x79622d32;
const C3: u32 = 0x6b206574;

/** One block: key at `key` (32 bytes), state words 12..15 given, 64 bytes to `out`. */
export function chacha20_block(out: usize, key: usize, w12: u32, w13: u32, w14: u32, w15: u32): void {
  const k0 = load<u32>(key, 0), k1 = load<u32>(key, 4), k2 = load<u32>(key, 8), k3 = load<u32>(key, 12), k4 = load<u32>(key, 16), k5 = load<u32>(key, 20), k6 = load<u32>(key, 24), k7 = load<u32>(key, 28);
  let x0 = C0, x1 = C1, x2 = C2, x3 = C3;
  let x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
  let x12 = w12, x13 = w13, x14 = w14, x15 = w15;
  for (let i = 0; i < 10; i++) {
    // column round, then diagonal round
    x0 += x4; x12 = rotl<u32>(x12 ^ x0, 16);
    x8 += x12; x4 = rotl<u32>(x4 ^ x8, 12);
    x0 += x4; x12 = rotl<u32>(x12 ^ x0, 8);
    x8 += x12; x4 = rotl<u32>(x4 ^ x8, 7);
    x1 += x5; x13 = rotl<u32>(x13 ^ x1, 16);
    x9 += x13; x5 = rotl<u32>(x5 ^ x9, 12);
    x1 += x5; x13 = rotl<u32>(x13 ^ x1, 8);
    x9 += x13; x5 = rotl<u32>(x5 ^ x9, 7);
    x2 += x6; x14 = rotl<u32>(x14 ^ x2, 16);
    x10 += x14; x6 = rotl<u32>(x6 ^ x10, 12);
    x2 += x6; x14 = rotl<u32>(x14 ^ x2, 8);
    x10 += x14; x6 = rotl<u32>(x6 ^ x10, 7);
    x3 += x7; x15 = rotl<u32>(x15 ^ x3, 16);
    x11 += x15; x7 = rotl<u32>(x7 ^ x11, 12);
    x3 += x7; x15 = rotl<u32>(x15 ^ x3, 8);
    x11 += x15; x7 = rotl<u32>(x7 ^ x11, 7);
    x0 += x5; x15 = rotl<u32>(x15 ^ x0, 16);
    x10 += x15; x5 = rotl<u32>(x5 ^ x10, 12);
    x0 += x5; x15 = rotl<u32>(x15 ^ x0, 8);
    x10 += x15; x5 = rotl<u32>(x5 ^ x10, 7);
    x1 += x6; x12 = rotl<u32>(x12 ^ x1, 16);
    x11 += x12; x6 = rotl<u32>(x6 ^ x11, 12);
    x1 += x6; x12 = rotl<u32>(x12 ^ x1, 8);
    x11 += x12; x6 = rotl<u32>(x6 ^ x11, 7);
    x2 += x7; x13 = rotl<u32>(x13 ^ x2, 16);
    x8 += x13; x7 = rotl<u32>(x7 ^ x8, 12);
    x2 += x7; x13 = rotl<u32>(x13 ^ x2, 8);
    x8 += x13; x7 = rotl<u32>(x7 ^ x8, 7);
    x3 += x4; x14 = rotl<u32>(x14 ^ x3, 16);
    x9 += x14; x4 = rotl<u32>(x4 ^ x9, 12);
    x3 += x4; x14 = rotl<u32>(x14 ^ x3, 8);
    x9 += x14; x4 = rotl<u32>(x4 ^ x9, 7);
  }
  store<u32>(out, x0 + C0, 0);
  store<u32>(out, x1 + C1, 4);
  store<u32>(out, x2 + C2, 8);
  store<u32>(out, x3 + C3, 12);
  store<u32>(out, x4 + k0, 16);
  store<u32>(out, x5 + k1, 20);
  store<u32>(out, x6 + k2, 24);
  store<u32>(out, x7 + k3, 28);
  store<u32>(out, x8 + k4, 32);
  store<u32>(out, x9 + k5, 36);
  store<u32>(out, x10 + k6, 40);
  store<u32>(out, x11 + k7, 44);
  store<u32>(out, x12 + w12, 48);
  store<u32>(out, x13 + w13, 52);
  store<u32>(out, x14 + w14, 56);
  store<u32>(out, x15 + w15, 60);
}

/** The block counter of the stream in progress; globals are per instance, so never shared. */
export let counter_lo: u32 = 0;
export let counter_hi: u32 = 0;

/** `nblocks` blocks with the 32-byte `key` at the current counter, which advances (carrying). */
export function chacha20_stream(dst: usize, key: usize, nblocks: usize): void {
  let lo = counter_lo;
  let hi = counter_hi;
  for (let i: usize = 0; i < nblocks; i++) {
    chacha20_block(dst + i * 64, key, lo, hi, 0, 0);
    if (++lo == 0) hi++;
  }
  counter_lo = lo;
  counter_hi = hi;
}

/**
 * `__arch_chacha20_blocks_nostack(dst, key, counter, nblocks)`: the u32[2]
 * `counter` is read, advanced and written back.
 */
export function chacha20_blocks(dst: usize, key: usize, counter: usize, nblocks: usize): void {
  counter_lo = load<u32>(counter);
  counter_hi = load<u32>(counter, 4);
  chacha20_stream(dst, key, nblocks);
  store<u32>(counter, counter_lo);
  store<u32>(counter, counter_hi, 4);
}
