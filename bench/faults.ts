/**
 * `npm run bench:faults`: writer deaths at random points inside and between
 * updates, in one thread (FAULTS_DEATHS, default 10^4, on a virtual counter,
 * plus a tenth of that on the host counter), with readers reading every clock
 * throughout; then a few real KernelWorker kills with restart. Prints a
 * markdown table: errors to callers, backward reads, give-ups per reader per
 * death, read latency in steady state and right after each death
 * (p50/p99/max), and the restart time (Kernel.create({ adopt: true }) and
 * worker kill → onRestart).
 */
import { cpus } from "node:os";
import { CLOCK_AUX, CLOCK_MONOTONIC } from "../assembly/layout.ts";
import { createReader } from "../src/reader.ts";
import { KernelWorker } from "../src/workers/kernel.ts";
import { CLOCKS, type FaultRunResult, faultRun, pct, type ReaderName } from "../test/helpers/faults.ts";

const deaths = Number(process.env.FAULTS_DEATHS ?? 10_000);
const workerKills = Number(process.env.FAULTS_WORKER_KILLS ?? 5);

const fmt = (ns: number) => (Number.isNaN(ns) ? "-" : ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} us` : `${Math.round(ns)} ns`);
const dist = (xs: number[]) => {
  const s = Float64Array.from(xs).sort();
  return `${fmt(pct(s as unknown as number[], 50))} / ${fmt(pct(s as unknown as number[], 99))} / ${fmt(s[s.length - 1])}`;
};

const runs: { name: string; r: FaultRunResult; s: number }[] = [];
for (const [name, counter, n, adoptDeath] of [
  ["virtual counter, 5 % of adopters die too", "virtual", deaths, 0.05],
  ["host counter", "host-call", Math.max(1, Math.round(deaths / 10)), 0],
] as const) {
  const t0 = performance.now();
  const r = await faultRun({ counter, deaths: n, seed: 0xbe7c, timing: true, adoptDeath });
  runs.push({ name, r, s: (performance.now() - t0) / 1000 });
}

// Real worker kills: terminate, readers in this thread read on; time to onRestart.
const restartMs: number[] = [];
let wReads = 0;
let wErrors = 0;
let wAuxErrors = 0;
let wBackward = 0;
{
  let restarted: () => void = () => {};
  const kw = await KernelWorker.start({ counter: "host-call", hz: 1000, restart: true, onRestart: () => restarted() });
  await kw.call("auxClockEnable", 0, true);
  const r = await createReader(kw);
  const prev = new Map<number, bigint>();
  const read = () => {
    for (const c of CLOCKS) {
      const v = r.nowNs(c);
      wReads++;
      if (v < 0n) {
        if (c === CLOCK_AUX) wAuxErrors++;
        else wErrors++;
        continue;
      }
      if (c !== 0 && c !== 5 && v < (prev.get(c) ?? 0n)) wBackward++;
      prev.set(c, v);
    }
  };
  for (let i = 0; i < workerKills; i++) {
    const settle = performance.now() + 20;
    while (performance.now() < settle) {
      read();
      await new Promise((res) => setImmediate(res));
    }
    let done = false;
    const p = new Promise<void>((res) => (restarted = res)).then(() => (done = true));
    const t0 = performance.now();
    await (kw as unknown as { w: { terminate(): Promise<unknown> } }).w.terminate();
    while (!done) {
      read();
      await new Promise((res) => setImmediate(res));
    }
    await p;
    restartMs.push(performance.now() - t0);
    if (typeof (await kw.call("sysClockGettime", CLOCK_MONOTONIC)) !== "object") wErrors++;
  }
  await kw.close();
}

console.log(`fault injection, ${new Date().toISOString()}, ${cpus()[0]?.model}, ${cpus().length} cores, Node ${process.version}\n`);
console.log("| run | deaths (inside / between / in adopter) | closed first | reads checked | errors to callers | backward reads | of which in the known shadow gap | time |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const { name, r, s } of runs) {
  const inside = r.episodes.filter((e) => e.kind === "inside").length;
  const adopter = r.episodes.filter((e) => e.adopterDiedAt !== undefined).length;
  console.log(
    `| ${name} | ${r.deaths.toLocaleString("en")} (${inside} / ${r.episodes.length - inside} / ${adopter}) | ${r.episodes.filter((e) => e.closed).length} | ${r.reads.toLocaleString("en")} | ${r.errorCount} | ${r.backwardCount + r.backwardShadowGapCount} | ${r.backwardShadowGapCount} | ${s.toFixed(1)} s |`,
  );
}
console.log("\nRead latency, one `nowNs` timed with `process.hrtime.bigint()` around it (the timer's own cost included), p50 / p99 / max:\n");
console.log("| run | steady state (writer alive) | first rounds after each death (abandoned, closed, just adopted) | Kernel.create({ adopt: true }) |");
console.log("| --- | ---: | ---: | ---: |");
for (const { name, r } of runs) console.log(`| ${name} | ${dist(r.latSteady)} | ${dist(r.latAfter)} | ${dist(r.adoptNs)} |`);
console.log("\nGive-ups per reader per death (a give-up is one bounded wait of ~1 ms on one odd seq value):\n");
console.log("| run | reader | clocks | give-ups | per death | max in one death | stuck seq values met (total) | deaths with more give-ups than stuck values |");
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
const clocksOf: Record<ReaderName, string> = { all: "all 7", hres: "MONOTONIC, BOOTTIME, REALTIME, both COARSE", raw: "MONOTONIC_RAW", aux: "AUX0" };
for (const { name, r } of runs) {
  for (const n of ["all", "hres", "raw", "aux"] as ReaderName[]) {
    const per = r.episodes.map((e) => e.giveUps[n]);
    const stuck = r.episodes.reduce((a, e) => a + e.stuck[n], 0);
    const over = r.episodes.filter((e) => e.giveUps[n] > e.stuck[n]).length;
    console.log(`| ${name} | ${n} | ${clocksOf[n]} | ${r.giveUps[n]} | ${(r.giveUps[n] / r.deaths).toFixed(2)} | ${Math.max(...per)} | ${stuck} | ${over} |`);
  }
}
console.log(`\nReal KernelWorker kills (terminate, restart: true), ${workerKills}: kill → onRestart ${dist(restartMs.map((m) => m * 1e6))}; reads ${wReads.toLocaleString("en")}, errors ${wErrors}, aux errors during restarts ${wAuxErrors}, backward ${wBackward}.`);
for (const { name, r } of runs) if (r.backward.length) console.log(`\n${name}: backward reads outside the known shadow gap (first ${r.backward.length}):\n${r.backward.map((b) => `- ${b}`).join("\n")}`);
if (runs.some(({ r }) => r.backwardCount > 0) || wErrors > 0 || wBackward > 0) process.exitCode = 1;
