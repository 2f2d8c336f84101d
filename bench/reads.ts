/**
 * `tsx bench/reads.ts DIR...`: the floor, inlined, called and JS number reads
 * of several builds in one process, against the first DIR's floor, in
 * alternating slices (no machine phase between builds). Each DIR holds an
 * inline.wasm and a testing-shared.wasm (e.g. built from an older commit).
 * Shared counter, MONOTONIC. Writes bench/results/reads-*.json.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOCK_MONOTONIC } from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { boundReader, sandwich, writeResult } from "./sandwich.ts";

type Loops = { inline_loop(c: number, n: number): bigint; called_loop(c: number, n: number): bigint; bare_loop(n: number): bigint };
type Values = { clock_gettime_f64(c: number): number };

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error("usage: tsx bench/reads.ts DIR... (each with inline.wasm and testing-shared.wasm)");
const k = await Kernel.create({ counter: "shared", tickerPeriodNs: 50_000 });
k.startTicking(250);
await new Promise((r) => setTimeout(r, 300)); // the ticker measures its period
const N = 1000;
const fns: Record<string, () => unknown> = {};
let ref: (() => unknown) | undefined;
for (const dir of dirs) {
  const tag = basename(dir);
  const e = await boundReader<Loops>(k, readFileSync(join(dir, "inline.wasm")), tag);
  const v = await boundReader<Values>(k, readFileSync(join(dir, "testing-shared.wasm")), tag);
  const ok = (x: bigint) => { if (x < 0n) throw new Error(`${tag}: a read failed`); };
  ref ??= () => e.bare_loop(N);
  fns[`${tag} floor`] = () => e.bare_loop(N);
  fns[`${tag} inlined`] = () => ok(e.inline_loop(CLOCK_MONOTONIC, N));
  fns[`${tag} called`] = () => ok(e.called_loop(CLOCK_MONOTONIC, N));
  fns[`${tag} js-number`] = () => { let s = 0; for (let i = 0; i < N; i++) s += v.clock_gettime_f64(CLOCK_MONOTONIC); return s; };
}
const ROUNDS = Number(process.env.ROUNDS ?? 31);
const { rows, refNs } = await sandwich(fns, ref!, N, ROUNDS, 200);
k.close();
console.log(`\nNode ${process.version}: reads against ${basename(dirs[0])}'s floor (median ${refNs.toFixed(2)} ns), ${ROUNDS} rounds\n`);
for (const [name, r] of Object.entries(rows)) console.log(`${name}: ratio ${r.ratio.toFixed(3)}, ${r.ns.toFixed(2)} ns`);
writeResult(root, "reads", { node: process.version, cpu: cpus()[0]?.model, rounds: ROUNDS, refNs, rows });
process.exit(0);
