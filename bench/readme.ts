/**
 * `npm run bench:readme`: the README's measured tables, from the newest run
 * of each kind in bench/results/ (`bench-*.json` from `npm run bench`,
 * `browser-*.json` from `npm run bench:browser`; a run of every row, not a
 * `BENCH_ONLY` subset; or the files given), written
 * between the markers `<!-- bench:begin -->` and `<!-- bench:end -->`, Node's
 * and Chromium's figures side by side, joined by row name and target id.
 * Every figure in that block comes from those two files.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

type Run = {
  date: string; machine: { cpu: string; cores: number; node: string; browser?: string; performanceNowStepNs?: number }; rounds: number; timeMs: number; phase?: string; baseline: string;
  rows: Array<{ name: string; ns: number; ratio: number; rounds: number[]; note?: string }>;
  targets: Array<{ id: string; what: string; ratio: number; max: number; met?: boolean; paired?: number; rounds: number; context?: boolean }>;
  throughput: Record<string, number>; ptpSeconds?: { clocks8: number; hosts8x8: number };
  notIsolated?: { performanceNowStepNs: number; performanceNowNs: number };
};

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = join(root, "bench/results");
// A subset run (BENCH_ONLY: recorded as `only`; older Node files show it by no throughput) never fills the tables.
const full = (f: string) => {
  const r = JSON.parse(readFileSync(join(dir, f), "utf8")) as { only?: string; throughput?: object };
  return !r.only && (f.startsWith("browser-") || Object.keys(r.throughput ?? {}).length > 0);
};
const newest = (prefix: string) => readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith(".json") && full(f)).sort().at(-1);
const nodeFile = process.argv[2] ?? join(dir, newest("bench-")!);
const browserFile = process.argv[3] ?? (newest("browser-") && join(dir, newest("browser-")!));
const read = (f: string) => JSON.parse(readFileSync(f, "utf8")) as Run;
const n = read(nodeFile);
const b = browserFile && existsSync(browserFile) ? read(browserFile) : undefined;

const fmt = (x: number, d = 2) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d));
const rel = (file: string) => `bench/results/${basename(file)}`;
const link = (file: string) => `[\`${rel(file)}\`](${rel(file)})`;
// Not met if either measurement is over: say by how much the worse one is.
const over = (t: Run["targets"][number]) => ((Math.max(t.ratio, t.paired ?? t.ratio) / t.max - 1) * 100).toFixed(0);
const verdict = (t?: Run["targets"][number]) => (!t ? "-" : t.context ? "context" : t.met ? "met" : `not met: ${over(t)} % over`);
const ratios = (t?: Run["targets"][number]) => (t ? `${t.ratio.toFixed(3)} | ${t.paired?.toFixed(3) ?? "-"}` : "- | -");
const cells = (r?: Run["rows"][number]) => (r ? `${fmt(r.ns)} | ${fmt(r.ratio, 3)} | ${fmt(Math.min(...r.rounds))}-${fmt(Math.max(...r.rounds))}` : "- | - | -");
const short = (baseline: string) => baseline.split(" ")[0];

// Joined by name: Node's order, then what only the page has.
const ids = [...new Set([...n.targets.map((t) => t.id), ...(b?.targets.map((t) => t.id) ?? [])])];
const names = [...new Set([...n.rows.map((r) => r.name), ...(b?.rows.map((r) => r.name) ?? [])])];
const target = (run: Run | undefined, id: string) => run?.targets.find((t) => t.id === id);
const row = (run: Run | undefined, name: string) => run?.rows.find((r) => r.name === name);
const note = (name: string) => {
  const [a, c] = [row(n, name)?.note, row(b, name)?.note];
  return a === c || !c ? (a ?? "") : `${a ? `Node: ${a}; ` : ""}Chromium: ${c}`;
};

const block = [
  `Node: measured with \`npm run bench\` on ${n.machine.cpu} (${n.machine.cores} cores), Node ${n.machine.node}, ${n.date.slice(0, 10)}; every row in ${n.rounds} rounds of ${n.timeMs} ms (median; range over rounds), ratios the median of per-round ratios. Machine phase: ${n.phase ?? "not recorded"}. JSON: ${link(nodeFile)}.`,
  ``,
  b
    ? `Chromium: measured with \`npm run bench:browser\` in ${b.machine.browser} (headless, a cross-origin isolated page; \`performance.now()\` steps ${b.machine.performanceNowStepNs} ns there), same machine, ${b.date.slice(0, 10)}; ${b.rounds} rounds of ${b.timeMs} ms. ${b.notIsolated ? `In a page that is not isolated (no COOP/COEP), \`performance.now()\` steps ${b.notIsolated.performanceNowStepNs} ns and costs ${fmt(b.notIsolated.performanceNowNs)} ns a call (median of 7 windows of 100 k calls, same run). ` : ""}A page has no node:wasi: its ratio column is to ${b.baseline}. Machine phase: ${b.phase ?? "not recorded"}. JSON: ${link(browserFile!)}.`
    : `Chromium: no \`npm run bench:browser\` result in bench/results/.`,
  ``,
  `| target | id | at most | Node: ratio (rounds) | (paired slices) | | Chromium: ratio (rounds) | (paired slices) | |`,
  `| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |`,
  ...ids.map((id) => {
    const t = (target(n, id) ?? target(b, id))!;
    return `| ${t.what} | \`${id}\` | ${t.max} | ${ratios(target(n, id))} | ${verdict(target(n, id))} | ${ratios(target(b, id))} | ${verdict(target(b, id))} |`;
  }),
  ``,
  `| row | Node: ns per read (median) | × ${short(n.baseline)} | range over rounds (ns) | Chromium: ns per read (median) | × ${b ? short(b.baseline) : "-"} | range over rounds (ns) | note |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
  ...names.map((x) => `| ${x} | ${cells(row(n, x))} | ${cells(row(b, x))} | ${note(x)} |`),
  ``,
  `| reader workers (writer ticking at 1 kHz), Node | reads per second, all readers |`,
  `| ---: | ---: |`,
  ...Object.entries(n.throughput).map(([k, rps]) => `| ${k} | ${(rps / 1e6).toFixed(1)} M |`),
  ``,
  n.ptpSeconds
    ? `PTP simulation (Node), 3600 s of virtual time: 8 clocks (one host) in ${n.ptpSeconds.clocks8.toFixed(1)} s of wall time (${(3600 / n.ptpSeconds.clocks8).toFixed(0)}x real time); 64 clocks (8 hosts x 8, \`wasm-vdso ptp --hosts 8 --clocks 8\`) in ${n.ptpSeconds.hosts8x8.toFixed(1)} s.`
    : "",
].join("\n");

const readme = join(root, "README.md");
const text = readFileSync(readme, "utf8");
const begin = "<!-- bench:begin -->";
const end = "<!-- bench:end -->";
const a = text.indexOf(begin), e = text.indexOf(end);
if (a < 0 || e < a) throw new Error("README.md has no bench markers");
writeFileSync(readme, text.slice(0, a + begin.length) + "\n" + block + "\n" + text.slice(e));
console.log(`README.md: Performance tables from ${rel(nodeFile)}${b ? ` and ${rel(browserFile!)}` : ""}`);
