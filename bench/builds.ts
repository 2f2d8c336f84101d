/**
 * `tsx bench/builds.ts DIR...`: one read row of several builds in one
 * process, so a change is compared with no machine phase between builds.
 * Each DIR holds a testing-shared.wasm (e.g. built from an older commit);
 * each build's `read_loop` (MODE kernel, default host-call; CLOCK, default
 * MONOTONIC) runs against the bare host counter import in alternating 3 ms
 * slices, the import before and after each slice. Prints the median ratios,
 * writes bench/results/builds-*.json.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOCK_MONOTONIC } from "../assembly/layout.ts";
import { hostClocksource } from "../src/kernel/clocksource.ts";
import { type CounterMode, Kernel } from "../src/kernel/kernel.ts";
import { boundReader, sandwich, writeResult } from "./sandwich.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs = process.argv.slice(2);
const mode = (process.env.MODE ?? "host-call") as CounterMode;
const clock = Number(process.env.CLOCK ?? CLOCK_MONOTONIC);
const k = await Kernel.create({ counter: mode, tickerPeriodNs: 50_000, memory: true });
k.startTicking(250);
await new Promise((r) => setTimeout(r, 300)); // the ticker measures its period
const N = 1000;
const fns: Record<string, () => unknown> = {};
for (const dir of dirs) {
  const e = await boundReader<{ read_loop(c: number, n: number): bigint }>(k, readFileSync(join(dir, "testing-shared.wasm")), dir);
  fns[dir] = () => { if (e.read_loop(clock, N) < 0n) throw new Error(`${dir}: a read failed`); };
}
const bench = await WebAssembly.instantiate(readFileSync(join(root, "build/bench.wasm")), {
  env: { counter: hostClocksource().read, nop: () => 0n },
  wasi_snapshot_preview1: { clock_time_get: () => 0 },
});
const counterLoop = (bench.instance.exports as unknown as { counter_loop(n: number): bigint }).counter_loop;
const floor = () => counterLoop(N);
const ROUNDS = Number(process.env.ROUNDS ?? 41);
const { rows, refNs: importNs } = await sandwich(fns, floor, N, ROUNDS, 300);
k.close();
const results = dirs.map((dir) => ({ build: basename(dir), ...rows[dir] }));
console.log(`\n${mode} read_loop(clock ${clock}) vs the counter import (median ${importNs.toFixed(2)} ns), ${ROUNDS} rounds of 3 ms slices\n`);
for (const x of results) console.log(`${x.build}: ratio ${x.ratio.toFixed(3)}, ${x.ns.toFixed(2)} ns`);
writeResult(root, "builds", { node: process.version, cpu: cpus()[0]?.model, mode, clock, rounds: ROUNDS, importNs, results });
process.exit(0);
