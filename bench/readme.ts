/**
 * `npm run bench:readme`: the README's measured tables, from one bench run
 * (the newest JSON in bench/results/, or the file given), written between
 * the markers `<!-- bench:begin -->` and `<!-- bench:end -->`. Every figure
 * in that block comes from that one file.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = join(root, "bench/results");
const file = process.argv[2] ?? join(dir, readdirSync(dir).filter((f) => f.startsWith("bench-") && f.endsWith(".json")).sort().at(-1)!);
const r = JSON.parse(readFileSync(file, "utf8")) as {
  date: string; machine: { cpu: string; cores: number; node: string }; rounds: number; timeMs: number; phase?: string;
  rows: Array<{ name: string; ns: number; ratio: number; rounds: number[]; note?: string }>;
  targets: Array<{ id: string; what: string; ratio: number; max: number; met?: boolean; paired?: number; rounds: number; context?: boolean }>;
  throughput: Record<string, number>; ptpSeconds?: { clocks8: number; hosts8x8: number };
};
const fmt = (x: number, d = 2) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d));
const rel = (file: string) => `bench/results/${basename(file)}`;
const verdict = (t: (typeof r.targets)[number]) => {
  if (t.context) return "context";
  if (t.met) return "met";
  return `not met: ${((t.ratio / t.max - 1) * 100).toFixed(0)} % over`;
};
const block = [
  `Measured with \`npm run bench\` on ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, ${r.date.slice(0, 10)}; every row in ${r.rounds} rounds of ${r.timeMs} ms (median; range over rounds), ratios the median of per-round ratios. Machine phase: ${r.phase ?? "not recorded"}. JSON: [\`${rel(file)}\`](${rel(file)}).`,
  ``,
  `| target | id | ratio (rounds) | ratio (paired slices) | at most | |`,
  `| --- | --- | ---: | ---: | ---: | --- |`,
  ...r.targets.map((t) => `| ${t.what} | \`${t.id}\` | ${t.ratio.toFixed(3)} | ${t.paired?.toFixed(3) ?? "-"} | ${t.max} | ${verdict(t)} |`),
  ``,
  `| row | ns per read (median) | × node:wasi | range over rounds (ns) | note |`,
  `| --- | ---: | ---: | ---: | --- |`,
  ...r.rows.map((x) => `| ${x.name} | ${fmt(x.ns)} | ${fmt(x.ratio, 3)} | ${fmt(Math.min(...x.rounds))}-${fmt(Math.max(...x.rounds))} | ${x.note ?? ""} |`),
  ``,
  `| reader workers (writer ticking at 1 kHz) | reads per second, all readers |`,
  `| ---: | ---: |`,
  ...Object.entries(r.throughput).map(([n, rps]) => `| ${n} | ${(rps / 1e6).toFixed(1)} M |`),
  ``,
  r.ptpSeconds
    ? `PTP simulation, 3600 s of virtual time: 8 clocks (one host) in ${r.ptpSeconds.clocks8.toFixed(1)} s of wall time (${(3600 / r.ptpSeconds.clocks8).toFixed(0)}x real time); 64 clocks (8 hosts x 8, \`wasm-vdso ptp --hosts 8 --clocks 8\`) in ${r.ptpSeconds.hosts8x8.toFixed(1)} s.`
    : "",
].join("\n");

const readme = join(root, "README.md");
const text = readFileSync(readme, "utf8");
const begin = "<!-- bench:begin -->";
const end = "<!-- bench:end -->";
const a = text.indexOf(begin), b = text.indexOf(end);
if (a < 0 || b < a) throw new Error("README.md has no bench markers");
writeFileSync(readme, text.slice(0, a + begin.length) + "\n" + block + "\n" + text.slice(b));
console.log(`README.md: Performance tables from ${rel(file)}`);
