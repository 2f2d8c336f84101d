/**
 * One 50 ms sleep on MONOTONIC through one runtime's poll_oneoff, relative or
 * absolute (`tsx bench/wasi-sleep.ts <row> rel|abs`): prints the guest clock's
 * advance and the wall time taken as JSON. wasi-table.ts runs it in a child
 * with a timeout, since node:wasi takes an absolute deadline as a relative one.
 */
import { WASI } from "node:wasi";
import { WASI as ShimWASI } from "@bjorn3/browser_wasi_shim";
import { readFileSync } from "node:fs";
import { storeMemory } from "../src/datastore.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { createReader } from "../src/reader.ts";
import { createWasiProvider, wasiClockImportsNoJs, wasiImports } from "../src/wasi.ts";
import { wasiClockImportsAdapter } from "../src/wasi-adapter.ts";

type Guest = { now(id: number, precision: bigint): bigint; RANDOM_BUF: WebAssembly.Global; memory: WebAssembly.Memory };
type Imports = Record<string, unknown>;
const [row, mode] = process.argv.slice(2);
const module = (f: string) => new WebAssembly.Module(readFileSync(new URL(`../build/${f}`, import.meta.url)));

let g: Guest | undefined;
const mem = () => g!.memory;
const runtime = row.startsWith("browser") ? new ShimWASI([], [], []) : new WASI({ version: "preview1" });
const rt = (runtime as unknown as { wasiImport: Imports }).wasiImport;
let over: Imports = {};
let env: object | undefined;
let file = "guest.wasm";
if (row === "virtual") {
  over = (await createWasiProvider({ guestMemory: mem, runtime: rt, clock: "virtual" })).imports;
} else if (row.includes("no JS")) {
  // The guest imports the store's shared memory and reads the fast shared-counter clock.
  const guestMemory = storeMemory(true);
  guestMemory.grow(40 - guestMemory.buffer.byteLength / 65536);
  const shared = await Kernel.create({ counter: "shared", memory: guestMemory });
  shared.startTicking();
  const r = await createReader(shared);
  over = { ...wasiImports({ reader: r, guestMemory: () => guestMemory, runtime: rt, kernel: shared, coarse: true }).imports, ...wasiClockImportsNoJs(r) };
  env = { memory: guestMemory };
  file = "guest-shared.wasm";
} else if (row.includes("wasm-vdso")) {
  const exact = await Kernel.create({ counter: "host-call" });
  exact.startTicking();
  const reader = await createReader(exact);
  over = wasiImports({ reader, guestMemory: mem, runtime: rt, kernel: exact }).imports;
  if (row.includes("multi-memory")) over = { ...over, ...wasiClockImportsAdapter(reader, mem) };
}
const inst = new WebAssembly.Instance(module(file), { ...(env ? { env } : {}), wasi_snapshot_preview1: { ...rt, ...over } } as WebAssembly.Imports);
(runtime as unknown as { initialize(i: unknown): void }).initialize(inst);
g = { ...(inst.exports as unknown as Guest), memory: (env as { memory?: WebAssembly.Memory } | undefined)?.memory ?? (inst.exports.memory as WebAssembly.Memory) };

// One clock subscription (WASI preview1 layout): userdata, tag, then id, timeout, precision, flags.
const buf = g.RANDOM_BUF.value as number;
const dv = new DataView(g.memory.buffer);
const poll = ({ ...rt, ...over } as { poll_oneoff(i: number, o: number, n: number, ne: number): number }).poll_oneoff;
performance.now(); // the first call is slow (perf_hooks loads)
// The guest clock and the wall clock span the same interval.
const start = g.now(1, 0n);
const wall0 = performance.now();
dv.setBigUint64(buf, 7n, true);
dv.setUint8(buf + 8, 0);
dv.setUint32(buf + 16, 1, true);
dv.setBigUint64(buf + 24, mode === "abs" ? start + 50_000_000n : 50_000_000n, true);
dv.setBigUint64(buf + 32, 0n, true);
dv.setUint16(buf + 40, mode === "abs" ? 1 : 0, true);
const err = poll(buf, buf + 64, 1, buf + 128);
const guestNs = Number(g.now(1, 0n) - start);
const wallMs = performance.now() - wall0;
console.log(JSON.stringify({ err, guestNs, wallMs }));
process.exit(0);
