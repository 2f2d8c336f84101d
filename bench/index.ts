/**
 * `npm run bench`: every way to read time, measured in one run (rows.ts), each
 * row with its ratio to node:wasi's clock_time_get from the same run, the named
 * targets (targets.ts), reader throughput, the PTP simulation's speed. Prints
 * markdown and writes JSON to bench/results/; `npm run bench:readme` puts the
 * newest JSON into the README.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLOCK_MONOTONIC } from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { runPtpHosts } from "../src/ptp/run.ts";
import { spawn } from "../src/workers/spawn.ts";
import { BASELINE, cRow, N, phaseOf, ROUNDS, runRounds, TIME_MS } from "./measure.ts";
import { nodePlatform } from "./node.ts";
import { defineRows } from "./rows.ts";
import { measureTargets, ratioOf } from "./targets.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const setup = await defineRows(nodePlatform);

// C, through the real vDSO: compiled once, run in every round.
let cProgram: string | undefined;
try {
  cProgram = join(mkdtempSync(join(tmpdir(), "wasm-vdso-bench-")), "clock");
  execFileSync("cc", ["-O2", "-o", cProgram, join(root, "bench/c/clock_gettime.c")], { stdio: "pipe" });
} catch (e) {
  cProgram = undefined;
  console.log(`(C row skipped: no working C compiler: ${(e as Error).message.split("\n")[0]})`);
}

const c = cRow(cProgram);
const rows = await runRounds(c);
const base = rows.find((r) => r.name === BASELINE)!;
for (const r of rows) r.ratio = ratioOf(r, base);
const targets = await measureTargets(rows, c);

// The machine runs at two speeds for seconds at a time: the floor row (a fixed
// wasm loop) per round says which phase each round ran in.
const phase = phaseOf(rows);

// Reader workers on one shared store, the writer ticking at 1 kHz.
async function aggregate(readers: number, ms = 1000): Promise<number> {
  const k = await Kernel.create({ counter: "shared", tickerPeriodNs: 50_000 });
  k.startTicking(1000);
  const status = new SharedArrayBuffer(readers * 8 + 8);
  const counts = new BigInt64Array(status, 0, readers);
  const flags = new Int32Array(status, status.byteLength - 8, 2);
  // Each worker says "ready" once its reader is bound and "done" once it stopped.
  const ready: Promise<unknown>[] = [];
  const exits: Promise<unknown>[] = [];
  for (let idx = 0; idx < readers; idx++) {
    const w = await spawn(new URL("./read-worker.ts", import.meta.url), { memory: k.memory, view: k.rootView(), clock: CLOCK_MONOTONIC, status, idx });
    const message = (msg: string) => new Promise((res, rej) => (w.onMessage((m) => m === msg && res(m)), w.onError(rej)));
    ready.push(message("ready"));
    exits.push(message("done").finally(() => w.terminate()));
  }
  await Promise.all(ready);
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const t0 = performance.now();
  const c0 = counts.reduce((a, b) => a + b, 0n);
  await new Promise((r) => setTimeout(r, ms));
  const c1 = counts.reduce((a, b) => a + b, 0n);
  const dt = (performance.now() - t0) / 1000;
  Atomics.store(flags, 1, 1);
  await Promise.all(exits);
  k.close();
  return Number(c1 - c0) / dt;
}
// BENCH_ONLY (a subset of rows) skips these two unless it names them.
const extra = (what: string) => !process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test(what);
const throughput: Record<number, number> = {};
if (extra("throughput")) for (const n of [1, 2, 4, 8]) throughput[n] = await aggregate(n);
setup.close();

// The PTP chain in virtual time: 8 clocks for an hour (one host), and 64 (8 hosts x 8).
async function ptpSeconds(hosts: number): Promise<number> {
  const t0 = performance.now();
  await runPtpHosts({ hosts, clocks: 8, durationS: 3600, seed: 1, log: false, out: () => {} });
  return (performance.now() - t0) / 1000;
}
const ptp8 = extra("ptp") ? await ptpSeconds(1) : NaN;
const ptp64 = extra("ptp") ? await ptpSeconds(8) : NaN;
if (extra("ptp")) targets.push({ id: "ptp-64-clocks-hour-s", what: "seconds of wall time for 64 PTP clocks (8 hosts x 8) x 1 h of virtual time", ratio: ptp64, rounds: ptp64, max: 30, met: ptp64 <= 30 });

// ---- report ----
const fmt = (x: number, d = 2) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d));
const lines = [
  `| row | ns per read (median) | × node:wasi (median of rounds) | range over rounds (ns) | note |`,
  `| --- | ---: | ---: | ---: | --- |`,
  ...rows.map((r) => `| ${r.name} | ${fmt(r.ns)} | ${fmt(r.ratio!, 3)} | ${fmt(Math.min(...r.rounds))}-${fmt(Math.max(...r.rounds))} | ${r.note ?? ""} |`),
  ``,
  `| target | id | ratio, paired slices | ratio, rounds | target | met (both) |`,
  `| --- | --- | ---: | ---: | ---: | --- |`,
  ...targets.map((t) => `| ${t.what} | \`${t.id}\` | ${t.paired?.toFixed(3) ?? "-"} | ${t.rounds.toFixed(3)} | ≤ ${t.max} | ${t.context ? "-" : t.met ? "yes" : "no"} |`),
  ``,
  `| reader workers (writer ticking at 1 kHz) | reads per second, all readers |`,
  `| ---: | ---: |`,
  ...Object.entries(throughput).map(([n, rps]) => `| ${n} | ${(rps / 1e6).toFixed(1)} M |`),
  ``,
  `PTP simulation (\`wasm-vdso ptp\`), 3600 s of virtual time: 8 clocks in ${ptp8.toFixed(1)} s (${(3600 / ptp8).toFixed(0)}x real time); 8 hosts x 8 clocks in ${ptp64.toFixed(1)} s.`,
  ``,
  `Machine phase over the rounds: ${phase ?? "unknown (the floor row did not run)"}.`,
];
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: `${process.platform} ${process.arch}` };
console.log(`\nwasm-vdso bench, ${new Date().toISOString()}, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${N} reads per task, median of ${ROUNDS} rounds of ${TIME_MS} ms per row\n`);
console.log(lines.join("\n"));
mkdirSync(join(root, "bench/results"), { recursive: true });
const file = join(root, "bench/results", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, readsPerTask: N, timeMs: TIME_MS, rounds: ROUNDS, phase, rows, targets, throughput, ptpSeconds: { clocks8: ptp8, hosts8x8: ptp64 }, baseline: BASELINE, only: process.env.BENCH_ONLY }, null, 2));
console.log(`\nJSON: ${file}`);
process.exit(0);
