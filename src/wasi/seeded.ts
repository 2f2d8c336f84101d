/**
 * Seeded random_get, for deterministic runs only: the reader's vgetrandom
 * state is keyed from a seed instead of the host's secure source, so the
 * ChaCha20 stream (and every byte a guest gets) is a function of the seed.
 * NOT for secrets: anyone who knows or guesses the seed knows every byte.
 */
import { vdso_rng_data, vgetrandom_state as vs, NO_PAGE, reader_slot } from "../../assembly/layout.ts";
import type { Vdso } from "../wasm.ts";

export type Seed = bigint | number | string | Uint8Array;

const M64 = (1n << 64n) - 1n;

/** The seed's bytes: an integer as u64 little-endian, a string as UTF-8, bytes as they are. */
function seedBytes(seed: Seed): Uint8Array {
  if (seed instanceof Uint8Array) return seed.slice();
  if (typeof seed === "string") return new TextEncoder().encode(seed);
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) throw new RangeError(`wasm-vdso: a seed must be a safe integer, a bigint, a string or bytes, not ${seed}`);
  if (typeof seed !== "number" && typeof seed !== "bigint") throw new TypeError(`wasm-vdso: a seed must be a safe integer, a bigint, a string or bytes, not ${typeof seed}`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(seed)), true);
  return b;
}

/** splitmix64's output function. */
function mix(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/** 32-byte keys from a seed, one after another (a new one for each rng generation). */
export function seededKeys(seed: Seed): () => Uint8Array {
  // FNV-1a over a domain tag and the seed's bytes, then splitmix64 from there.
  let h = 0xcbf29ce484222325n;
  for (const byte of [...new TextEncoder().encode("wasm-vdso insecure seed\0"), ...seedBytes(seed)]) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & M64;
  let s = h;
  return () => {
    const key = new Uint8Array(vs.KEY_SIZE);
    const d = new DataView(key.buffer);
    for (let i = 0; i < vs.KEY_SIZE; i += 8) {
      s = (s + 0x9e3779b97f4a7c15n) & M64;
      d.setBigUint64(i, mix(s), true);
    }
    return key;
  };
}

/**
 * Before each random_get: if the rng page's generation is not the one the
 * reader's state was keyed for, key it with the seed's next key (where the
 * vDSO would fetch one from the host), with an empty batch.
 */
export function seededRekey(b: Vdso, seed: Seed): () => void {
  const rng = b.bound?.rng;
  if (rng === undefined || rng === NO_PAGE) throw new Error("wasm-vdso: a seeded random_get needs a reader bound to a store with an rng page");
  const next = seededKeys(seed);
  const state = b.scratch + reader_slot.getrandom_state;
  let keyed = -1n;
  return () => {
    const d = b.view;
    const gen = Atomics.load(new BigUint64Array(b.memory.buffer, rng + vdso_rng_data.generation, 1), 0); // whole, as the writer stores it
    if (gen === keyed && d.getBigUint64(state + vs.generation, true) === gen) return;
    const u8 = new Uint8Array(b.memory.buffer, state, vs.SIZE);
    u8.fill(0, vs.batch, vs.batch + vs.BATCH_SIZE);
    u8.set(next(), vs.key);
    d.setBigUint64(state + vs.generation, gen, true);
    u8[vs.pos] = vs.BATCH_SIZE; // the batch is empty: the next bytes come from the new key
    u8[vs.in_use] = 0;
    keyed = gen;
  };
}
