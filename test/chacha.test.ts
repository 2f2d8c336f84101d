// ChaCha20 in wasm: the RFC 8439 vectors, OpenSSL as a second reference, and
// the kernel's vdso_test_chacha method (one call vs split at every point).
import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { USER_START } from "../assembly/layout.ts";
import { Vdso } from "../src/wasm.ts";
import { RecordingSyscalls } from "./helpers/pages.ts";
import { testingExports } from "./helpers/testing.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** A portable ChaCha20 written from RFC 8439 §2.3, for comparison. */
function referenceBlocks(key: Uint8Array, counter: [number, number], nblocks: number): { out: Uint8Array; counter: [number, number] } {
  const k = new DataView(key.buffer, key.byteOffset, 32);
  const out = new Uint8Array(64 * nblocks);
  let [lo, hi] = counter;
  const rotl = (v: number, n: number) => ((v << n) | (v >>> (32 - n))) >>> 0;
  for (let b = 0; b < nblocks; b++) {
    const s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, ...Array.from({ length: 8 }, (_, i) => k.getUint32(4 * i, true)), lo, hi, 0, 0];
    const x = s.slice();
    const q = (a: number, bb: number, c: number, d: number) => {
      x[a] = (x[a] + x[bb]) >>> 0; x[d] = rotl(x[d] ^ x[a], 16);
      x[c] = (x[c] + x[d]) >>> 0; x[bb] = rotl(x[bb] ^ x[c], 12);
      x[a] = (x[a] + x[bb]) >>> 0; x[d] = rotl(x[d] ^ x[a], 8);
      x[c] = (x[c] + x[d]) >>> 0; x[bb] = rotl(x[bb] ^ x[c], 7);
    };
    for (let r = 0; r < 10; r++) {
      q(0, 4, 8, 12); q(1, 5, 9, 13); q(2, 6, 10, 14); q(3, 7, 11, 15);
      q(0, 5, 10, 15); q(1, 6, 11, 12); q(2, 7, 8, 13); q(3, 4, 9, 14);
    }
    const dv = new DataView(out.buffer, 64 * b, 64);
    for (let i = 0; i < 16; i++) dv.setUint32(4 * i, (x[i] + s[i]) >>> 0, true);
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  }
  return { out, counter: [lo, hi] };
}

describe("ChaCha20 block function (wasm)", async () => {
  // The testing build: chacha20_block(s) are primitives, not shipped.
  const vdso = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls(), build: "testing" });
  const t = testingExports(vdso);
  const mem = () => new Uint8Array(vdso.memory.buffer);
  const KEY = vdso.scratch + 256; // 32 bytes in this reader's chunk area
  const CTR = vdso.scratch + 16;
  // Output in user memory (from USER_START up), which a store memory has only once grown.
  const OUT = USER_START;
  const need = Math.ceil((OUT + 64 * 260 - vdso.memory.buffer.byteLength) / 65536);
  if (need > 0) vdso.memory.grow(need);
  const rfcKey = Uint8Array.from({ length: 32 }, (_, i) => i);

  it("RFC 8439 §2.3.2 block vector", () => {
    mem().set(rfcKey, KEY);
    // counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00 as little-endian words 13..15
    t.chacha20_block(OUT, KEY, 1, 0x09000000, 0x4a000000, 0);
    expect(hex(mem().slice(OUT, OUT + 64))).toBe(
      "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e",
    );
  });

  it("RFC 8439 §2.4.2: the keystream encrypts the sunscreen text to the RFC's ciphertext", () => {
    mem().set(rfcKey, KEY);
    const plain = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const ks = new Uint8Array(128);
    for (let b = 0; b < 2; b++) {
      t.chacha20_block(OUT, KEY, 1 + b, 0, 0x4a000000, 0);
      ks.set(mem().slice(OUT, OUT + 64), 64 * b);
    }
    const cipher = plain.map((p, i) => p ^ ks[i]);
    expect(hex(cipher)).toBe(
      "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
        "5af90bbf74a35be6b40b8eedf2785e42874d",
    );
  });

  it("agrees with OpenSSL's chacha20 (64-bit counter, carry into the high word)", () => {
    for (const [lo, hi] of [[0, 0], [0xffffffff, 0], [0xfffffffe, 7], [123456, 0xffffffff]]) {
      const key = randomBytes(32);
      mem().set(key, KEY);
      new DataView(vdso.memory.buffer).setUint32(CTR, lo, true);
      new DataView(vdso.memory.buffer).setUint32(CTR + 4, hi, true);
      t.chacha20_blocks(OUT, KEY, CTR, 4);
      const iv = Buffer.alloc(16);
      iv.writeUInt32LE(lo, 0);
      iv.writeUInt32LE(hi, 4);
      const ssl = createCipheriv("chacha20", key, iv).update(Buffer.alloc(256));
      expect(hex(mem().slice(OUT, OUT + 256))).toBe(hex(ssl));
    }
  });

  it("vdso_test_chacha: 200 random keys, 128 blocks in one call equal every split into two calls, counters too", () => {
    const BLOCKS = 128;
    const dv = () => new DataView(vdso.memory.buffer);
    for (let trial = 0; trial < 200; trial++) {
      const key = randomBytes(32);
      mem().set(key, KEY);
      const ref = referenceBlocks(key, [0, 0], BLOCKS);
      for (let split = 0; split < BLOCKS; split++) {
        mem().fill(0x58, OUT, OUT + 64 * BLOCKS);
        dv().setUint32(CTR, 0, true);
        dv().setUint32(CTR + 4, 0, true);
        if (split) t.chacha20_blocks(OUT, KEY, CTR, split);
        t.chacha20_blocks(OUT + 64 * split, KEY, CTR, BLOCKS - split);
        if (hex(mem().slice(OUT, OUT + 64 * BLOCKS)) !== hex(ref.out)) throw new Error(`trial ${trial} split ${split}: output differs`);
        expect([dv().getUint32(CTR, true), dv().getUint32(CTR + 4, true)]).toEqual(ref.counter);
      }
    }
  });

  it("vdso_test_chacha: the counter wraps from (u32)-128+2 into the high word", () => {
    const key = randomBytes(32);
    mem().set(key, KEY);
    const dv = () => new DataView(vdso.memory.buffer);
    const start: [number, number] = [(-128 + 2) >>> 0, 0];
    const ref1 = referenceBlocks(key, start, 128);
    const ref2 = referenceBlocks(key, ref1.counter, 128);
    dv().setUint32(CTR, start[0], true);
    dv().setUint32(CTR + 4, 0, true);
    t.chacha20_blocks(OUT, KEY, CTR, 128);
    expect(hex(mem().slice(OUT, OUT + 64 * 128))).toBe(hex(ref1.out));
    t.chacha20_blocks(OUT, KEY, CTR, 128);
    expect(hex(mem().slice(OUT, OUT + 64 * 128))).toBe(hex(ref2.out));
    expect([dv().getUint32(CTR, true), dv().getUint32(CTR + 4, true)]).toEqual([130, 1]);
    expect(ref2.counter).toEqual([130, 1]);
  });
});
