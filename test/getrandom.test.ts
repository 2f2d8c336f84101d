// vgetrandom in wasm (the testing build's primitive), on pages written by the kernel side.
import { describe, expect, it } from "vitest";
import { DATA_START, EFAULT, reader_slot, USER_START, vdso_rng_data, vgetrandom_state as vs } from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { bridgeOf, createReader } from "../src/reader.ts";
import { Vdso } from "../src/wasm.ts";
import { RecordingSyscalls } from "./helpers/pages.ts";
import { testingExports } from "./helpers/testing.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function setup() {
  const k = await Kernel.create({ counter: "virtual" });
  // A testing-build instance on the kernel's store: vgetrandom is not exported by the shipped module.
  const v = await Vdso.create({ memory: k.memory, counter: k.cs.read.bind(k.cs), syscalls: new RecordingSyscalls(), build: "testing" });
  v.bind(k.rootView());
  const t = testingExports(v);
  const state = v.scratch + reader_slot.getrandom_state;
  // Output goes to user memory (from USER_START up), which a store memory has only once grown.
  const BUF = USER_START;
  const need = Math.ceil((BUF + 16384 - v.memory.buffer.byteLength) / 65536);
  if (need > 0) v.memory.grow(need);
  const call = (len: number, flags = 0, st: number = state, opaque: number = vs.SIZE) => Number(t.vgetrandom(BUF, len, flags, st, opaque));
  const bytes = (len: number) => new Uint8Array(v.memory.buffer, BUF, len).slice();
  return { k, v, t, state, BUF, call, bytes };
}

describe("vgetrandom", () => {
  it("answers the parameters query like the live kernel: 144, PROT_READ|WRITE, MAP_DROPPABLE|ANONYMOUS", async () => {
    const { v, t } = await setup();
    const p = v.scratch + reader_slot.chunk;
    expect(t.vgetrandom(0, 0, 0, p, 0xffffffff)).toBe(0n);
    const d = new DataView(v.memory.buffer, p, 64);
    expect([d.getUint32(0, true), d.getUint32(4, true), d.getUint32(8, true)]).toEqual([144, 3, 0x28]);
    for (let i = 12; i < 64; i += 4) expect(d.getUint32(i, true)).toBe(0);
  });

  it("1000 x 1263-byte requests each return the full length; bytes pass a chi-squared check", async () => {
    const { v, call, bytes } = await setup();
    const hist = new Array(256).fill(0);
    for (let i = 0; i < 1000; i++) {
      expect(call(1263)).toBe(1263);
      for (const b of bytes(1263)) hist[b]++;
    }
    const expected = (1000 * 1263) / 256;
    const chi2 = hist.reduce((s, n) => s + (n - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: mean 255, sd 22.6; this band fails with p < 1e-6 for a fair source.
    expect(chi2).toBeGreaterThan(255 - 6 * 22.6);
    expect(chi2).toBeLessThan(255 + 6 * 22.6);
    expect(v.hostRandomCalls).toBe(1); // one key fetch for all of it
  });

  it("a 100-byte request: 64 bytes straight out, 36 from the refilled batch, which is zeroed where handed out", async () => {
    const { v, state, call } = await setup();
    expect(call(100)).toBe(100);
    const st = new Uint8Array(v.memory.buffer, state, vs.SIZE);
    expect(st[vs.pos]).toBe(36);
    expect(st[vs.in_use]).toBe(0);
    expect(st.slice(0, 36).every((b) => b === 0)).toBe(true);
    expect(st.slice(36, 96).some((b) => b !== 0)).toBe(true);
  });

  it("fast key erasure: the key changes after every refill", async () => {
    const { v, state, call } = await setup();
    const key = () => hex(new Uint8Array(v.memory.buffer, state + vs.key, 32));
    call(10);
    const k1 = key();
    call(200);
    expect(key()).not.toBe(k1);
  });

  it("a generation bump makes the next call rekey from the host; no bump, no host call", async () => {
    const { k, v, state, call } = await setup();
    call(32);
    expect(v.hostRandomCalls).toBe(1);
    call(32);
    call(5000);
    expect(v.hostRandomCalls).toBe(1);
    const gen = k.rng.reseed();
    call(1);
    expect(v.hostRandomCalls).toBe(2);
    expect(new DataView(v.memory.buffer).getBigUint64(state + vs.generation, true)).toBe(gen);
  });

  it("falls back to the host: not ready, unknown flags, wrong opaque length, re-entry", async () => {
    const { k, v, state, call } = await setup();
    call(8);
    const base = v.hostRandomCalls;
    expect(call(8, 8)).toBe(8); // unknown flag
    expect(call(8, 0, state, 100)).toBe(8); // wrong opaque_len
    new Uint8Array(v.memory.buffer)[state + vs.in_use] = 1;
    expect(call(8)).toBe(8);
    new Uint8Array(v.memory.buffer)[state + vs.in_use] = 0;
    new Uint8Array(v.memory.buffer)[k.store.rng + vdso_rng_data.is_ready] = 0;
    expect(call(8)).toBe(8);
    expect(v.hostRandomCalls - base).toBe(4);
    expect(call(0)).toBe(0);
  });

  it("a state straddling a page, inside the store, in another reader's slot or in static data is EFAULT", async () => {
    const { v, call } = await setup();
    const page = v.memory.buffer.byteLength - 4096;
    expect(call(8, 0, page - 100)).toBe(-EFAULT);
    expect(call(8, 0, 4096 + 64)).toBe(-EFAULT);
    expect(call(8, 0, v.scratch + 512 + reader_slot.getrandom_state)).toBe(-EFAULT);
    expect(call(8, 0, DATA_START + 64)).toBe(-EFAULT);
    expect(call(8, 0, page + 64)).toBe(8); // user memory is the caller's
  });

  it("two readers on one shared memory never hand out the same bytes", async () => {
    const k = await Kernel.create({ counter: "shared" });
    try {
      const r1 = await createReader({ memory: k.memory, view: k.rootView() });
      const r2 = await createReader({ memory: k.memory, view: k.rootView() });
      const seen = new Set<string>();
      for (let i = 0; i < 500; i++) {
        for (const r of [r1, r2]) {
          const b = r.getrandom(64);
          for (let j = 0; j < 64; j += 16) {
            const s = hex(b.subarray(j, j + 16));
            expect(seen.has(s)).toBe(false);
            seen.add(s);
          }
        }
      }
      expect(bridgeOf(r1).hostRandomCalls).toBe(1);
      expect(bridgeOf(r2).hostRandomCalls).toBe(1);
      expect(k.memory.buffer instanceof SharedArrayBuffer).toBe(true);
    } finally {
      k.close();
    }
  });
});
