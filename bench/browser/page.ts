/**
 * The bench in a page (bundled and driven by run.ts): the portable rows and
 * targets measured as in Node, in a cross-origin isolated page. The result
 * (or the error) goes back through `__benchDone`, which the driver exposes.
 */
import { hostResolutionNs } from "../../src/kernel/clocksource.ts";
import { BASELINE, N, phaseOf, ROUNDS, runRounds, TIME_MS } from "../core.ts";
import { defineRows, shimRuntime } from "../rows.ts";
import { measureTargets, ratioOf } from "../targets.ts";

const done = (r: { error?: string; result?: unknown }) => (globalThis as unknown as { __benchDone(r: unknown): void }).__benchDone(r);

async function load(path: string): Promise<ArrayBuffer> {
  const res = await fetch(new URL(`/${path}`, location.href));
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} (built? npm run asbuild)`);
  return res.arrayBuffer();
}

try {
  // Without isolation there is no SharedArrayBuffer: no shared counter, no ticker.
  if (!crossOriginIsolated) throw new Error("the page is not cross-origin isolated (no COOP/COEP headers)");
  const setup = await defineRows({ load, runtimes: { browser_wasi_shim: shimRuntime } });
  const rows = await runRounds();
  const base = rows.find((r) => r.name === BASELINE)!;
  for (const r of rows) r.ratio = ratioOf(r, base);
  const targets = await measureTargets(rows);
  setup.close();
  const page = { userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency, crossOriginIsolated, performanceNowStepNs: hostResolutionNs() };
  done({ result: { readsPerTask: N, timeMs: TIME_MS, rounds: ROUNDS, phase: phaseOf(rows), rows, targets, page } });
} catch (e) {
  done({ error: (e as Error)?.stack ?? String(e) });
}
