/**
 * WASI 0.2 `wasi:random/random` (and `insecure`, `insecure-seed`, so that
 * `--map 'wasi:random/*=wasm-vdso/wasi-p2/random#*'` covers the package) for
 * jco: the vDSO's getrandom (ChaCha20 in wasm, keyed by the host's secure
 * source once per rng generation).
 */
import { currentReader } from "./source.ts";

export { useKernel, type WasiP2Source } from "./source.ts";

const MAX = 0x7fffffff; // one JS typed array at most; a component asking for more traps

function len(n: bigint | number): number {
  const v = typeof n === "bigint" ? n : BigInt(n);
  if (v < 0n || v > BigInt(MAX)) throw new RangeError(`wasm-vdso/wasi-p2: get-random-bytes len ${v} is out of range`);
  return Number(v);
}

function bytes(n: bigint | number): Uint8Array {
  return currentReader().getrandom(len(n));
}

function u64(): bigint {
  return new DataView(currentReader().getrandom(8).buffer).getBigUint64(0, true);
}

export const random = {
  getRandomBytes: bytes,
  getRandomU64: u64,
};

/** The same secure source: nothing is gained here by a weaker one. */
export const insecure = {
  getInsecureRandomBytes: bytes,
  getInsecureRandomU64: u64,
};

let seed: [bigint, bigint] | undefined;
export const insecureSeed = {
  /** Two u64s drawn once, then the same for the life of the module (as the interface asks). */
  insecureSeed(): [bigint, bigint] {
    seed ??= [u64(), u64()];
    return seed;
  },
};
