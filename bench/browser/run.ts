/**
 * `npm run bench:browser`: the bench's rows in Chromium. page.ts is bundled
 * (esbuild), served cross-origin isolated by a small static server on
 * 127.0.0.1, run headless (playwright-core, /usr/bin/chromium), and its result
 * written to bench/results/browser-<date>.json in the Node bench's format.
 * Any failure exits non-zero with the reason; a deadline ends a stuck run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, tmpdir, totalmem } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { crossOriginIsolation } from "../../src/vite.ts";
import { ROUNDS, SHIM_WASI, TIME_MS } from "../core.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
// Setup and the target slices take about a minute; each round runs ~45 rows of TIME_MS plus 50 ms warm-up.
const DEADLINE_S = Number(process.env.BENCH_BROWSER_TIMEOUT_S ?? 180 + (ROUNDS * 45 * (TIME_MS + 60) * 3) / 1000);

// BENCH_RESULTS_DIR: where the JSON goes (the smoke test writes to a temporary folder).
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(root, "bench/results");
const out = mkdtempSync(join(tmpdir(), "wasm-vdso-bench-page-"));

function fail(why: string): never {
  rmSync(out, { recursive: true, force: true });
  console.error(`bench:browser failed: ${why}`);
  process.exit(1);
}
if (!CHROMIUM) fail("no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM)");
await build({ entryPoints: [join(root, "bench/browser/page.ts")], bundle: true, format: "esm", platform: "browser", target: "es2022", external: ["node:*"], outfile: join(out, "page.js"), logLevel: "error" })
  .catch((e: Error) => fail(`the page did not bundle: ${e.message}`));

// /out/page.js sits one folder down, so the bridge's `../build/<name>.wasm` is /build/.
const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const html = `<!doctype html><meta charset="utf-8"><title>wasm-vdso bench</title><link rel="icon" href="data:,"><script type="module" src="/out/page.js"></script>`;
const server = createServer((req, res) => {
  const url = decodeURIComponent((req.url ?? "/").split("?")[0]);
  const headers = { ...crossOriginIsolation, "Cache-Control": "no-store" };
  if (url === "/") return res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(html);
  if (url === "/plain") return res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><title>not isolated</title>"); // no COOP/COEP
  const [dir, rest] = url.startsWith("/out/") ? [out, url.slice(5)] : url.startsWith("/build/") ? [join(root, "build"), url.slice(7)] : [undefined, ""];
  const path = dir && normalize(join(dir, rest));
  if (!path || !path.startsWith(dir) || !existsSync(path)) return res.writeHead(404, headers).end();
  res.writeHead(200, { ...headers, "Content-Type": types[extname(path)] ?? "application/octet-stream" }).end(readFileSync(path));
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;

const browser = await chromium
  .launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"], timeout: 60_000 })
  .catch((e: Error) => (server.close(), fail(`Chromium did not start: ${e.message.split("\n")[0]}`)));
let result: Record<string, unknown>;

/** performance.now() in a page without COOP/COEP: its step and its cost (the median of 7 windows of 100 k calls). */
async function notIsolated(): Promise<{ crossOriginIsolated: boolean; performanceNowStepNs: number; performanceNowNs: number }> {
  const p = await browser.newPage();
  await p.goto(`http://127.0.0.1:${port}/plain`);
  const r = await p.evaluate(() => {
    let step = Infinity;
    for (let i = 0, last = performance.now(); i < 100_000; i++) {
      const t = performance.now();
      if (t > last) step = Math.min(step, t - last);
      last = t;
    }
    const costs: number[] = [];
    for (let w = 0; w < 7; w++) {
      let a = 0;
      const t0 = performance.now();
      for (let i = 0; i < 100_000; i++) a += performance.now();
      costs.push(((performance.now() - t0) * 1e6) / 100_000 + (a < 0 ? 1 : 0));
    }
    return { crossOriginIsolated, performanceNowStepNs: Math.round(step * 1e6), performanceNowNs: costs.sort((x, y) => x - y)[3] };
  });
  await p.close();
  return r;
}
try {
  const page = await browser.newPage();
  let resolveDone: (r: { error?: string; result?: Record<string, unknown> }) => void;
  await page.exposeFunction("__benchDone", (r: { error?: string; result?: Record<string, unknown> }) => resolveDone(r));
  const finished = new Promise<{ error?: string; result?: Record<string, unknown> }>((resolve, reject) => {
    resolveDone = resolve;
    page.on("pageerror", (e) => reject(new Error(`page error: ${e.stack ?? e}`)));
    page.on("crash", () => reject(new Error("the page crashed")));
    setTimeout(() => reject(new Error(`no result after ${DEADLINE_S.toFixed(0)} s (BENCH_BROWSER_TIMEOUT_S)`)), DEADLINE_S * 1000).unref();
  });
  page.on("console", (m) => console.log(`[page] ${m.text()}`));
  const query = new URLSearchParams(Object.entries(process.env).filter(([k, v]) => k.startsWith("BENCH_") && v !== undefined) as [string, string][]);
  await page.goto(`http://127.0.0.1:${port}/?${query}`);
  const r = await finished;
  if (r.error) throw new Error(`in the page: ${r.error}`);
  result = r.result!;
  result.notIsolated = await notIsolated();
} catch (e) {
  await browser.close().catch(() => {});
  server.close();
  fail((e as Error).message);
}
const version = browser.version();
await browser.close();
server.close();
rmSync(out, { recursive: true, force: true });


type Row = { name: string; ns: number; ratio: number; rounds: number[]; note?: string };
const { page, ...measured } = result as { page: { cores: number; userAgent: string; crossOriginIsolated: boolean; performanceNowStepNs: number }; rows: Row[] };
const machine = { cpu: cpus()[0]?.model, cores: page.cores, memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, platform: `${process.platform} ${process.arch}`, browser: `Chromium ${version}`, userAgent: page.userAgent, crossOriginIsolated: page.crossOriginIsolated, performanceNowStepNs: page.performanceNowStepNs };
const date = new Date().toISOString();
const json = { date, machine, ...measured, throughput: {}, baseline: SHIM_WASI, baselineWhy: "a page has no node:wasi: ratios are to browser_wasi_shim's clock_time_get, measured in the same run", only: process.env.BENCH_ONLY };

const fmt = (x: number, d = 2) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d));
console.log(`\nwasm-vdso bench in Chromium ${version}, ${date}, performance.now() step ${page.performanceNowStepNs} ns\n`);
console.log(["| row | ns per read (median) | × browser_wasi_shim | range over rounds (ns) | note |", "| --- | ---: | ---: | ---: | --- |", ...measured.rows.map((x) => `| ${x.name} | ${fmt(x.ns)} | ${fmt(x.ratio, 3)} | ${fmt(Math.min(...x.rounds))}-${fmt(Math.max(...x.rounds))} | ${x.note ?? ""} |`)].join("\n"));
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `browser-${date.replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify(json, null, 2));
console.log(`\nJSON: ${file}`);
process.exit(0);
