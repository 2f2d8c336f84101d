// A WASI guest built here, run under node:wasi and @bjorn3/browser_wasi_shim,
// with this project's provider overriding clock_time_get, clock_res_get, random_get.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";
import { nodeWasiGuest } from "./helpers/guest.ts";
import { WASI as ShimWASI } from "@bjorn3/browser_wasi_shim";
import { describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME, DATA_START, READER_SLOTS, reader_slot, STORE_START, USER_START } from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { bridgeOf, createReader, type Reader } from "../src/reader.ts";
import { wasiClockImports, wasiClockImportsNoJs } from "../src/wasi.ts";

const guestModule = new WebAssembly.Module(readFileSync(new URL("../build/guest.wasm", import.meta.url)));
const sharedGuestModule = new WebAssembly.Module(readFileSync(new URL("../build/guest-shared.wasm", import.meta.url)));
type Guest = { now(id: number, precision: bigint): bigint; res(id: number): bigint; random(len: number): number; RANDOM_BUF: WebAssembly.Global; memory: WebAssembly.Memory };
const ns = (t: { sec: bigint; nsec: bigint } | number) => {
  if (typeof t === "number") throw new Error(`errno ${t}`);
  return t.sec * 1_000_000_000n + t.nsec;
};
const WASI_INVAL = 28n;

async function runtimes(r: Reader) {
  const out: Array<[string, Guest]> = [];
  out.push(["node:wasi", nodeWasiGuest<Guest>(guestModule, (memory) => wasiClockImports(r, memory))]);
  // browser_wasi_shim
  const sw = new ShimWASI([], [], []);
  let g2: Guest | undefined;
  const p2 = wasiClockImports(r, () => g2!.memory);
  const i2 = new WebAssembly.Instance(guestModule, { wasi_snapshot_preview1: { ...sw.wasiImport, ...p2 } });
  sw.initialize(i2 as never);
  g2 = i2.exports as unknown as Guest;
  out.push(["browser_wasi_shim", g2]);
  return out;
}

describe("WASI provider", () => {
  it("under both runtimes: readings lie between host readings, MONOTONIC never goes back, bad ids are inval", async () => {
    const k = await Kernel.create({ counter: "host-call" });
    const r = await createReader(k);
    for (const [name, g] of await runtimes(r)) {
      for (let i = 0; i < 200; i++) {
        const b = ns(k.sysClockGettime(CLOCK_MONOTONIC));
        const t = g.now(1, 1n);
        const a = ns(k.sysClockGettime(CLOCK_MONOTONIC));
        expect(b <= t && t <= a, `${name}: ${b} <= ${t} <= ${a}`).toBe(true);
        const rb = ns(k.sysClockGettime(CLOCK_REALTIME));
        const rt = g.now(0, 1n);
        const ra = ns(k.sysClockGettime(CLOCK_REALTIME));
        expect(rb <= rt && rt <= ra).toBe(true);
      }
      let prev = 0n;
      for (let i = 0; i < 1000; i++) {
        const t = g.now(1, 0n);
        expect(t >= prev).toBe(true);
        prev = t;
      }
      expect(g.now(4, 0n)).toBe(-WASI_INVAL);
      expect(g.now(0xffffffff, 0n)).toBe(-WASI_INVAL);
      expect(g.now(3, 0n)).toBe(-WASI_INVAL); // no per-thread CPU clock here: said, not faked
      expect(g.now(2, 0n)).toBeGreaterThan(0n); // process CPU time, from the host
      expect(g.res(1)).toBe(1n);
      expect(g.res(9)).toBe(-WASI_INVAL);
    }
  });

  it("copy path: clock_time_get is a wasm function calling the vDSO directly (no i64<->BigInt on the way)", async () => {
    const k = await Kernel.create({ counter: "virtual" });
    const r = await createReader(k);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const p = wasiClockImports(r, () => memory);
    expect(String(p.clock_time_get)).toMatch(/native code/); // a wasm export, not a JS closure
    (k.cs as unknown as { advanceNs(n: number): void }).advanceNs(0x1_2345_6789);
    k.tick();
    expect(p.clock_time_get(1, 0n, 16)).toBe(0);
    expect(new DataView(memory.buffer).getBigUint64(16, true)).toBe(ns(k.sysClockGettime(CLOCK_MONOTONIC))); // both halves
    expect(p.clock_time_get(0, 0n, 24)).toBe(0);
    expect(new DataView(memory.buffer).getBigUint64(24, true)).toBe(ns(k.sysClockGettime(CLOCK_REALTIME)));
    expect(p.clock_time_get(9, 0n, 16)).toBe(28); // errno through the i32
    // precision arrives as the guest's i64, and a huge one is still just "coarse is fine"
    expect(p.clock_time_get(1, 0xffff_ffff_ffff_ffffn, 16)).toBe(0);
  });

  it("honours precision: a caller accepting 4 ms gets the coarse clock", async () => {
    const k = await Kernel.create({ counter: "virtual" });
    const r = await createReader(k);
    const [[, g]] = await runtimes(r);
    (k.cs as unknown as { advanceNs(n: number): void }).advanceNs(1_234_567);
    expect(g.now(1, 4_000_000n)).toBe(ns(k.sysClockGettime(CLOCK_MONOTONIC_COARSE)));
    expect(g.now(1, 1000n)).toBe(ns(k.sysClockGettime(CLOCK_MONOTONIC)));
  });

  it("clock_res_get reports the resolution delivered: a shared counter's measured period", async () => {
    const k = await Kernel.create({ counter: "shared", tickerPeriodNs: 50_000 });
    const r = await createReader(k);
    try {
      k.tick();
      const [[, g]] = await runtimes(r);
      expect(g.res(1)).toBe(BigInt(k.cs.resolutionNs!()));
      expect(g.res(1)).toBeGreaterThan(1000n);
    } finally {
      k.close();
    }
  });

  it("random_get bytes come from wasm: one host key fetch per generation, not one per call", async () => {
    const k = await Kernel.create({ counter: "virtual" });
    const r = await createReader(k);
    for (const [name, g] of await runtimes(r)) {
      const before = bridgeOf(r).hostRandomCalls;
      const seen = new Set<string>();
      for (let i = 0; i < 100; i++) {
        expect(g.random(1000), name).toBe(0);
        const b = Buffer.from(new Uint8Array(g.memory.buffer, g.RANDOM_BUF.value as number, 1000));
        seen.add(b.toString("hex"));
      }
      expect(seen.size).toBe(100);
      expect(bridgeOf(r).hostRandomCalls - before).toBeLessThanOrEqual(1);
    }
    const calls = bridgeOf(r).hostRandomCalls;
    k.rng.reseed();
    const [[, g]] = await runtimes(r);
    g.random(16);
    expect(bridgeOf(r).hostRandomCalls).toBe(calls + 1);
  });

  it("no-JS path: a guest importing the vDSO's memory calls the wasm exports directly", async () => {
    const memory = new WebAssembly.Memory({ initial: 40, maximum: 64, shared: true });
    const k = await Kernel.create({ counter: "shared", memory, tickerPeriodNs: 0 });
    const r = await createReader(k);
    try {
      const nw = new WASI({ version: "preview1" });
      const direct = wasiClockImportsNoJs(r);
      // These are wasm functions, not JS: no JS runs on a call.
      expect(String(direct.clock_time_get)).toMatch(/native code/);
      const inst = new WebAssembly.Instance(sharedGuestModule, { env: { memory }, wasi_snapshot_preview1: { ...nw.wasiImport, ...direct } });
      nw.initialize(inst);
      const g = inst.exports as unknown as Guest;
      const b = ns(k.sysClockGettime(CLOCK_MONOTONIC));
      const t = g.now(1, 0n);
      const a = ns(k.sysClockGettime(CLOCK_MONOTONIC));
      expect(b <= t && t <= a).toBe(true);
      expect(g.random(256)).toBe(0);
      expect(new Uint8Array(memory.buffer, g.RANDOM_BUF.value as number, 256).some((x) => x !== 0)).toBe(true);
      // the guest's data sits above the vDSO's region
      expect(g.RANDOM_BUF.value as number).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    } finally {
      k.close();
    }
  });

  describe("copy-path bounds: every range checked before a byte is written", () => {
    const WASI_FAULT = 21;
    const WASI_OVERFLOW = 61;
    const PAGE = 65536;
    /** A one-page guest memory filled with a pattern, and a snapshot of it. */
    const guest = () => {
      const memory = new WebAssembly.Memory({ initial: 1 });
      new Uint8Array(memory.buffer).forEach((_, i, a) => (a[i] = (i * 7 + 3) & 0xff));
      const snap = () => Buffer.from(new Uint8Array(memory.buffer)).toString("base64");
      return { memory, snap };
    };
    const setup = async () => {
      const k = await Kernel.create({ counter: "virtual" });
      return { k, r: await createReader(k) };
    };

    it("a len whose i32 is negative (2^31..2^32-1) is overflow (61), as node:wasi answers, and writes nothing", async () => {
      const { r } = await setup();
      const { memory, snap } = guest();
      const p = wasiClockImports(r, () => memory);
      const before = snap();
      // As a JS caller passes them, and as wasm hands an i32 to JS (signed).
      for (const len of [2 ** 31, 2 ** 32 - 1, -(2 ** 31), -1]) {
        expect(p.random_get(0, len), `len ${len}`).toBe(WASI_OVERFLOW);
        expect(p.random_get(1024, len), `len ${len}`).toBe(WASI_OVERFLOW);
      }
      expect(snap()).toBe(before);
      // Through a wasm guest: the provider and node:wasi answer the same.
      const nw = new WASI({ version: "preview1" });
      let g: Guest | undefined;
      const ours = new WebAssembly.Instance(guestModule, { wasi_snapshot_preview1: { ...nw.wasiImport, ...wasiClockImports(r, () => g!.memory) } });
      nw.initialize(ours);
      g = ours.exports as unknown as Guest;
      const nw2 = new WASI({ version: "preview1" });
      const theirs = new WebAssembly.Instance(guestModule, { wasi_snapshot_preview1: nw2.wasiImport });
      nw2.initialize(theirs);
      const gn = theirs.exports as unknown as Guest;
      for (const len of [2 ** 31, 2 ** 32 - 1]) {
        const b = Buffer.from(new Uint8Array(g.memory.buffer)).toString("base64");
        expect(g.random(len)).toBe(WASI_OVERFLOW);
        expect(gn.random(len)).toBe(WASI_OVERFLOW);
        expect(Buffer.from(new Uint8Array(g.memory.buffer)).toString("base64")).toBe(b);
      }
    });

    it("a range straddling the end of the guest's memory is fault (21): nothing written", async () => {
      const { r } = await setup();
      const { memory, snap } = guest();
      const p = wasiClockImports(r, () => memory);
      const before = snap();
      for (const [buf, len] of [
        [PAGE - 100, 200],
        [PAGE - 1000, 1001], // several chunks: the first ones used to be written before the fault
        [PAGE, 1],
        [PAGE + 4096, 16],
        [2 ** 32 - 16, 32], // u32 sum beyond 2^32: no wrap
        [-16, 16], // 2^32 - 16 as JS sees it from wasm
      ]) {
        expect(p.random_get(buf, len), `${buf}+${len}`).toBe(WASI_FAULT);
      }
      for (const out of [PAGE - 4, PAGE - 7, PAGE, -8, -1, 2 ** 32 - 8]) {
        expect(p.clock_time_get(1, 0n, out), `out ${out}`).toBe(WASI_FAULT);
        expect(p.clock_res_get(1, out), `out ${out}`).toBe(WASI_FAULT);
      }
      // A bad pointer is fault before a bad clock id is inval (as the no-JS path and node:wasi order them).
      expect(p.clock_time_get(99, 0n, PAGE - 4)).toBe(WASI_FAULT);
      expect(p.clock_res_get(99, PAGE - 4)).toBe(WASI_FAULT);
      expect(snap()).toBe(before);
      // The last bytes are writable; an empty range anywhere is success.
      expect(p.random_get(PAGE - 600, 600)).toBe(0);
      expect(p.clock_time_get(1, 0n, PAGE - 8)).toBe(0);
      expect(p.clock_res_get(1, PAGE - 16)).toBe(0);
      expect(new DataView(memory.buffer).getBigUint64(PAGE - 16, true)).toBe(1n);
      const after = snap();
      expect(p.random_get(PAGE, 0)).toBe(0);
      expect(p.random_get(PAGE + 5, 0)).toBe(0);
      expect(snap()).toBe(after);
      // A grown memory is seen at once.
      memory.grow(1);
      expect(p.random_get(PAGE - 100, 200)).toBe(0);
      expect(p.clock_time_get(1, 0n, 2 * PAGE - 8)).toBe(0);
      expect(p.clock_time_get(1, 0n, 2 * PAGE - 4)).toBe(WASI_FAULT);
    });

    it("a guest memory that is the vDSO's own: the store, slots and module data are fault, user memory is fine", async () => {
      const memory = new WebAssembly.Memory({ initial: 25, maximum: 64, shared: true });
      const k = await Kernel.create({ counter: "virtual", memory });
      const r = await createReader(k);
      try {
        const b = bridgeOf(r);
        expect(b.memory).toBe(memory);
        const p = wasiClockImports(r, () => memory);
        const low = () => Buffer.from(new Uint8Array(memory.buffer, 0, Math.min(USER_START, memory.buffer.byteLength)));
        const check = () => {
          const before = low();
          const own = b.scratch; // even this reader's own slot: the copy path writes only user memory
          for (const to of [0, 8, STORE_START, READER_SLOTS, own, own + reader_slot.chunk, DATA_START, USER_START - 8, USER_START - 1]) {
            expect(p.random_get(to, 16), `random_get @${to}`).toBe(WASI_FAULT);
            expect(p.clock_time_get(1, 0n, to), `clock_time_get @${to}`).toBe(WASI_FAULT);
            expect(p.clock_res_get(1, to), `clock_res_get @${to}`).toBe(WASI_FAULT);
          }
          expect(p.random_get(own + reader_slot.chunk, 1000)).toBe(WASI_FAULT);
          expect(low().equals(before)).toBe(true);
        };
        check(); // 25 pages: no user memory yet, USER_START itself is past the end
        expect(p.random_get(USER_START, 16)).toBe(WASI_FAULT);
        memory.grow(40 - 25);
        check();
        // User memory above USER_START is written.
        expect(p.random_get(USER_START, 1000)).toBe(0);
        expect(new Uint8Array(memory.buffer, USER_START, 1000).some((x) => x !== 0)).toBe(true);
        const bt = ns(k.sysClockGettime(CLOCK_MONOTONIC));
        expect(p.clock_time_get(1, 0n, USER_START + 4096)).toBe(0);
        expect(new DataView(memory.buffer).getBigUint64(USER_START + 4096, true)).toBe(bt); // virtual: time stands still
        expect(p.clock_res_get(1, USER_START + 4104)).toBe(0);
        expect(p.random_get(40 * PAGE - 16, 16)).toBe(0);
        expect(p.random_get(40 * PAGE - 16, 17)).toBe(WASI_FAULT);
      } finally {
        k.close();
      }
    });

    it("a guest-memory getter that throws or gives no memory: fault (21), never an exception into the guest", async () => {
      const { r } = await setup();
      const getters: Array<[string, () => WebAssembly.Memory]> = [
        ["undefined", () => undefined as never],
        ["null", () => null as never],
        ["{}", () => ({}) as never],
        ["a duck with a buffer", () => ({ buffer: new ArrayBuffer(PAGE) }) as never],
        ["a spoofed prototype", () => Object.create(WebAssembly.Memory.prototype)],
        ["a throwing getter", () => { throw new Error("not bound yet"); }],
      ];
      for (const [name, get] of getters) {
        const p = wasiClockImports(r, get);
        expect(() => p.random_get(0, 16), name).not.toThrow();
        expect(p.random_get(0, 16), name).toBe(WASI_FAULT);
        expect(p.random_get(0, 0), name).toBe(WASI_FAULT);
        expect(p.clock_time_get(1, 0n, 0), name).toBe(WASI_FAULT);
        expect(p.clock_res_get(1, 0), name).toBe(WASI_FAULT);
      }
      // Bound later (the usual order: imports made before the instance): then it works.
      let bound: WebAssembly.Memory | undefined;
      const p = wasiClockImports(r, () => bound!);
      expect(p.clock_time_get(1, 0n, 0)).toBe(WASI_FAULT);
      bound = new WebAssembly.Memory({ initial: 1 });
      expect(p.clock_time_get(1, 0n, 0)).toBe(0);
      expect(p.random_get(0, 16)).toBe(0);
    });

    it("the reader's chunk area is zeroed after each random_get: handed-out bytes do not stay", async () => {
      const { r } = await setup();
      const b = bridgeOf(r);
      const { memory } = guest();
      const p = wasiClockImports(r, () => memory);
      const chunkArea = () => new Uint8Array(b.memory.buffer, b.scratch + reader_slot.chunk, reader_slot.CHUNK_SIZE);
      for (const len of [1, 16, reader_slot.CHUNK_SIZE - 1, reader_slot.CHUNK_SIZE, reader_slot.CHUNK_SIZE + 1, 1000, 4096]) {
        new Uint8Array(memory.buffer, 0, len).fill(0);
        expect(p.random_get(0, len)).toBe(0);
        const got = new Uint8Array(memory.buffer, 0, len);
        if (len >= 16) expect(got.some((x) => x !== 0), `len ${len}`).toBe(true);
        expect(chunkArea().every((x) => x === 0), `len ${len}`).toBe(true);
      }
    });
  });
});
