/**
 * `tsx bench/builds.ts DIR...`: one read row of several builds in one
 * process, so a change is compared with no machine phase between builds.
 * Each DIR holds a testing-shared.wasm (e.g. built from an older commit);
 * each build's `read_loop` (MODE kernel, default host-call; CLOCK, default
 * MONOTONIC) runs against the bare host counter import in alternating 3 ms
 * slices, the import before and after each slice. Prints the median ratios,
 * writes bench/results/builds-*.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOCK_MONOTONIC, NO_PAGE } from "../assembly/layout.ts";
import { hostClocksource } from "../src/kernel/clocksource.ts";
import { type CounterMode, Kernel } from "../src/kernel/kernel.ts";
import { kernelSyscalls } from "../src/reader.ts";
import { claimSlot, slotAddr, vdsoImports } from "../src/wasm.ts";
import { median } from "./measure.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs = process.argv.slice(2);
const mode = (process.env.MODE ?? "host-call") as CounterMode;
const clock = Number(process.env.CLOCK ?? CLOCK_MONOTONIC);
const k = await Kernel.create({ counter: mode, tickerPeriodNs: 50_000, memory: true });
k.startTicking(250);
await new Promise((r) => setTimeout(r, 300)); // the ticker measures its period
const host = { counter: k.cs.read.bind(k.cs), syscalls: kernelSyscalls(k, null), hostRandomCalls: 0 };
const v = k.rootView();
const page = (a: number | undefined) => a ?? NO_PAGE;
const N = 1000;
const fns: Record<string, () => unknown> = {};
for (const dir of dirs) {
  const { instance } = await WebAssembly.instantiate(readFileSync(join(dir, "testing-shared.wasm")), vdsoImports(k.memory, () => host));
  const e = instance.exports as unknown as { read_loop(c: number, n: number): bigint; set_slot(p: number): number; bind(...a: number[]): number };
  if (e.set_slot(slotAddr(claimSlot(k.memory))) !== 0 || e.bind(v.time, page(v.real), page(v.rng), page(v.arch), page(v.pvclock), page(v.hvclock)) !== 0) throw new Error(`${dir}: slot or bind`);
  fns[dir] = () => { if (e.read_loop(clock, N) < 0n) throw new Error(`${dir}: a read failed`); };
}
const bench = await WebAssembly.instantiate(readFileSync(join(root, "build/bench.wasm")), {
  env: { counter: hostClocksource().read, nop: () => 0n },
  wasi_snapshot_preview1: { clock_time_get: () => 0 },
});
const counterLoop = (bench.instance.exports as unknown as { counter_loop(n: number): bigint }).counter_loop;
const floor = () => counterLoop(N);
function slice(f: () => unknown, ms: number): number {
  const t0 = performance.now();
  let n = 0, t1: number;
  do { f(); n++; } while ((t1 = performance.now()) - t0 < ms);
  return ((t1 - t0) * 1e6) / (n * N);
}
for (const f of [floor, ...Object.values(fns)]) slice(f, 300); // tier up to TurboFan

const ROUNDS = Number(process.env.ROUNDS ?? 41);
const ratios: Record<string, number[]> = {}, ns: Record<string, number[]> = {}, floors: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [dir, f] of Object.entries(fns)) {
    await new Promise((res) => setImmediate(res)); // the kernel ticks between slices
    slice(f, 1);
    const a = slice(floor, 3), b = slice(f, 3), c = slice(floor, 3);
    (ratios[dir] ??= []).push((2 * b) / (a + c));
    (ns[dir] ??= []).push(b);
    floors.push((a + c) / 2);
  }
}
k.close();
const importNs = median(floors);
const results = dirs.map((dir) => ({ build: basename(dir), ratio: median(ratios[dir]), ns: median(ns[dir]) }));
console.log(`\n${mode} read_loop(clock ${clock}) vs the counter import (median ${importNs.toFixed(2)} ns), ${ROUNDS} rounds of 3 ms slices\n`);
for (const x of results) console.log(`${x.build}: ratio ${x.ratio.toFixed(3)}, ${x.ns.toFixed(2)} ns`);
mkdirSync(join(root, "bench/results"), { recursive: true });
const file = join(root, "bench/results", `builds-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, mode, clock, rounds: ROUNDS, importNs, results }, null, 2));
console.log(`\nJSON: ${file}`);
process.exit(0);
