/**
 * `npm run bench:stress`: the torn-read harness at full size: 4 reader workers,
 * 10^8 checked reads spread over every reader path while the writer updates
 * flat out; then the negative controls: per seq loop, the build without that
 * loop's retry check, read on the paths through it until each shows a torn
 * read (cap 10 s); and the build without the seqlock on the root paths.
 */
import { cpus } from "node:os";
import { LOOPS, PATHS, PATHS_OF_LOOP, runStress, type StressResult } from "../test/stress/harness.ts";

const total = Number(process.env.STRESS_READS ?? 100_000_000);
const readers = 4;
const n = (x: bigint | number) => x.toLocaleString("en");
const rows = (run: string, r: StressResult) =>
  Object.entries(r.paths).map(([p, x]) => `| ${run} | ${p} | ${n(x.checked)} | ${n(x.torn)} | ${n(x.fallbacks)} | ${n(r.giveUps)} | ${n(r.updates)} | ${(r.ms / 1000).toFixed(1)} s |`);

console.log(`torn-read harness, ${new Date().toISOString()}, ${cpus()[0]?.model}, ${cpus().length} cores, Node ${process.version}\n`);
console.log("| run | path | checked reads | torn | fallbacks | give-ups (run) | writer updates | time |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
const checked = await runStress({ readers, readsPerPath: Math.ceil(total / PATHS.length) });
console.log(rows("seqlock (production read path)", checked).join("\n"));
let failed = checked.torn !== 0n;
for (const loop of LOOPS) {
  const r = await runStress({ build: `stress-noretry-${loop}`, paths: PATHS_OF_LOOP[loop], readers, readsPerPath: 1e12, stopOnTorn: true, maxMs: 10_000 });
  console.log(rows(`negative control: no retry in ${loop}`, r).join("\n"));
  for (const p of PATHS_OF_LOOP[loop]) if (r.paths[p]!.torn === 0n) (failed = true), console.log(`negative control ${loop}: ${p} saw no torn read`);
}
const rootPaths = PATHS.filter((p) => !p.endsWith("_timens"));
const control = await runStress({ build: "stress-noseqlock", paths: rootPaths, readers, readsPerPath: 1e12, stopOnTorn: true, maxMs: 10_000 });
console.log(rows("negative control: no seqlock", control).join("\n"));
for (const p of rootPaths) if (control.paths[p]!.torn === 0n) (failed = true), console.log(`negative control no-seqlock: ${p} saw no torn read`);
if (failed) process.exitCode = 1;
