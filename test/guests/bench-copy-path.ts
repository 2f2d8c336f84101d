/**
 * The copy path's clock_time_get against node:wasi's, in one process, from
 * the AssemblyScript guest's loop (build/guest.wasm: time_loop), as the bench's
 * WASI rows measure. Not a test: `npx tsx test/guests/bench-copy-path.ts`.
 * Prints ns per call (median of rounds) and the ratio to node:wasi.
 */
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";
import { Kernel } from "../../src/kernel/kernel.ts";
import { createReader } from "../../src/reader.ts";
import { wasiClockImports, wasiImports } from "../../src/wasi.ts";
import { bridgeOf, type Reader } from "../../src/reader.ts";
import { GuestMemory } from "../../src/wasi/guest-memory.ts";

/** The copy path's clock_time_get as it was (git HEAD before this change): three i64<->BigInt crossings per call. */
function bigintCopyPath(reader: Reader, guestMemory: () => WebAssembly.Memory) {
  const b = bridgeOf(reader);
  const gm = new GuestMemory(guestMemory, b);
  return {
    clock_time_get(id: number, precision: bigint, out: number): number {
      out >>>= 0;
      if (!gm.resolve() || !gm.writable(out, 8)) return 21;
      const t = b.exports.wasi_time_ns(id, precision);
      if (t < 0n) return Number(-t);
      gm.view.setBigUint64(out, t, true);
      return 0;
    },
  };
}

type Guest = { time_loop(n: number, id: number): bigint; memory: WebAssembly.Memory };
const mod = new WebAssembly.Module(readFileSync(new URL("../../build/guest.wasm", import.meta.url)));
const N = 200_000;
const ROUNDS = Number(process.env.ROUNDS ?? 15);

function guest(over: Record<string, unknown> | ((g: () => Guest) => Record<string, unknown>)): Guest {
  const w = new WASI({ version: "preview1" });
  let g: Guest | undefined;
  const o = typeof over === "function" ? over(() => g!) : over;
  const i = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: { ...w.wasiImport, ...o } as WebAssembly.ModuleImports });
  w.initialize(i);
  g = i.exports as unknown as Guest;
  return g;
}

const exact = await Kernel.create({ counter: "host-call" });
const exactReader = await createReader(exact);
const shared = await Kernel.create({ counter: "shared" });
const sharedReader = await createReader(shared);

const rows: Array<[string, Guest]> = [
  ["node:wasi", guest({})],
  ["wasm-vdso exact (host-call), wasiImports", guest((g) => wasiImports({ reader: exactReader, guestMemory: () => g().memory }).imports)],
  ["wasm-vdso shared counter (coarse: true)", guest((g) => wasiImports({ reader: sharedReader, guestMemory: () => g().memory, coarse: true }).imports)],
  ["wasm-vdso exact, copy path clock_time_get only", guest((g) => ({ ...wasiClockImports(exactReader, () => g().memory) }))],
  ["before: BigInt copy path, exact", guest((g) => bigintCopyPath(exactReader, () => g().memory))],
  ["before: BigInt copy path, shared", guest((g) => bigintCopyPath(sharedReader, () => g().memory))],
  // The floor of any JS provider on an exact host clock: hrtime.bigint straight into the guest's memory, no vDSO, no checks.
  ["(floor) JS: hrtime.bigint + setBigUint64, no vDSO", guest((g) => { let dv: DataView | undefined; return { clock_time_get: (_id: number, _p: bigint, out: number) => { if (dv?.buffer !== g().memory.buffer) dv = new DataView(g().memory.buffer); dv.setBigUint64(out, process.hrtime.bigint(), true); return 0; } }; })],
];
const times = new Map<string, number[]>(rows.map(([n]) => [n, []]));
for (const [, g] of rows) g.time_loop(N, 1); // warm up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, g] of rows) {
    const t0 = process.hrtime.bigint();
    const v = g.time_loop(N, 1);
    const t1 = process.hrtime.bigint();
    if (v < 0n) throw new Error(`${name}: errno ${-v}`);
    times.get(name)!.push(Number(t1 - t0) / N);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const base = median(times.get("node:wasi")!);
for (const [name] of rows) {
  const m = median(times.get(name)!);
  console.log(`${name.padEnd(50)} ${m.toFixed(1).padStart(7)} ns  ${(m / base).toFixed(3)}x node:wasi`);
}
shared.close();
exact.close();
