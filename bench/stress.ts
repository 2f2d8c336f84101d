/**
 * `npm run bench:stress`: the torn-read harness at full size: 4 reader workers,
 * 10^8 checked reads while the writer updates flat out, then the negative
 * control (same harness, readers built without the seqlock check).
 */
import { cpus } from "node:os";
import { runStress } from "../test/stress/harness.ts";

const total = Number(process.env.STRESS_READS ?? 100_000_000);
const readers = 4;
const checked = await runStress({ readers, readsPerReader: Math.ceil(total / readers) });
const control = await runStress({ readers, readsPerReader: Math.ceil(total / readers / 10), noSeqlock: true });
const line = (name: string, r: typeof checked) =>
  `| ${name} | ${r.readers} | ${r.reads.toLocaleString("en")} | ${r.torn.toLocaleString("en")} | ${r.giveUps.toLocaleString("en")} | ${r.updates.toLocaleString("en")} | ${(r.ms / 1000).toFixed(1)} s |`;
console.log(`torn-read harness, ${new Date().toISOString()}, ${cpus()[0]?.model}, ${cpus().length} cores, Node ${process.version}\n`);
console.log("| run | readers | checked reads | torn | give-ups (writer paused ~1 ms mid-update) | writer updates | time |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
console.log(line("seqlock (production read path)", checked));
console.log(line("negative control: no seqlock check", control));
if (checked.torn !== 0n) process.exitCode = 1;
if (control.torn === 0n) {
  console.log("negative control saw no torn read: the harness could not have failed");
  process.exitCode = 1;
}
