// A WASI guest built here, run under node:wasi and @bjorn3/browser_wasi_shim,
// with this project's provider overriding clock_time_get, clock_res_get, random_get.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";
import { WASI as ShimWASI } from "@bjorn3/browser_wasi_shim";
import { describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME } from "../assembly/layout.ts";
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
  // node:wasi
  const nw = new WASI({ version: "preview1" });
  let g1: Guest | undefined;
  const p1 = wasiClockImports(r, () => g1!.memory);
  const i1 = new WebAssembly.Instance(guestModule, { wasi_snapshot_preview1: { ...nw.wasiImport, ...p1 } });
  nw.initialize(i1);
  g1 = i1.exports as unknown as Guest;
  out.push(["node:wasi", g1]);
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
});
