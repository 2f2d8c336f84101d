// The `npm run bench:browser` machinery, not its speed: one short round of two
// rows (and the baseline) in Chromium, and a JSON in the Node bench's format.
// No figure is asserted, only that the rows, the targets and the page's facts are there.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) console.warn("\n*** bench:browser smoke test SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium) ***\n");
const root = fileURLToPath(new URL("..", import.meta.url));

describe.skipIf(!CHROMIUM)("bench:browser", () => {
  it("runs rows in a cross-origin isolated page and writes browser-<date>.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasm-vdso-bench-browser-"));
    try {
      const env = { ...process.env, BENCH_TIME_MS: "5", BENCH_ROUNDS: "1", BENCH_ONLY: "^(floor|wasm shared: MONOTONIC)", BENCH_RESULTS_DIR: dir, BENCH_BROWSER_TIMEOUT_S: "90" };
      const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "bench/browser/run.ts")], { env, encoding: "utf8", timeout: 120_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      const files = readdirSync(dir).filter((f) => /^browser-.*\.json$/.test(f));
      expect(files).toHaveLength(1);
      const j = JSON.parse(readFileSync(join(dir, files[0]), "utf8"));
      expect(j.machine.browser).toMatch(/^Chromium \d+/);
      expect(j.machine.crossOriginIsolated).toBe(true);
      expect(j.machine.performanceNowStepNs).toBeGreaterThan(0);
      expect(j.notIsolated.crossOriginIsolated).toBe(false);
      expect(j.baseline).toBe("browser_wasi_shim clock_time_get(MONOTONIC)");
      const names = j.rows.map((x: { name: string }) => x.name);
      expect(names).toEqual(expect.arrayContaining([j.baseline, "wasm shared: MONOTONIC", "floor: bare seqlock read inlined, no checks (not a valid reader)"]));
      for (const row of j.rows) expect(row.rounds).toHaveLength(1);
      expect(j.targets.map((t: { id: string }) => t.id)).toContain("wasm-called-vs-floor");
      expect(j.phase).toMatch(/phase/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
