/**
 * The named targets: row a's time per read over row b's, at most `max`, each
 * measured two ways (the median of per-round ratios, and adjacent 3 ms slices
 * run alternately); met only if both say so. Targets against something that
 * drifts with us (the floor, another wasm or JS row) are the ones a noisy
 * machine cannot flip; the peers (node:wasi, browser_wasi_shim, C) are context.
 * Node and a page measure the same list: each keeps the targets whose rows it has.
 */
import { C_ROW, type External, median, NODE_WASI, pairedRatio, type Row, SHIM_WASI } from "./core.ts";

export interface Target {
  id: string;
  what: string;
  a: string;
  b: string;
  max: number;
  /** context only: no verdict */
  context?: boolean;
}

const FLOOR = "floor: bare seqlock read inlined, no checks (not a valid reader)";
const CALLED = "wasm shared: MONOTONIC";
const INLINED = "wasm shared: MONOTONIC, read inlined into the caller's loop";

export const TARGETS: Target[] = [
  { id: "wasm-called-vs-floor", what: "clock_gettime(MONOTONIC) called from a wasm loop, shared counter, over the floor", a: CALLED, b: FLOOR, max: 2.0 },
  { id: "wasm-inlined-vs-floor", what: "the same read inlined (as an AssemblyScript user gets it), over the floor", a: INLINED, b: FLOOR, max: 1.3 },
  { id: "js-number-vs-performance-now", what: "JS number read (reader.now) vs performance.now()", a: "JS -> wasm, shared: number (clock_gettime_f64)", b: "performance.now()", max: 0.15 },
  { id: "js-api-vs-performance-now", what: "the README's first JS read (createReader(k), clock.now) vs performance.now()", a: "JS API as the README shows it: clock.now(CLOCK_MONOTONIC), default kernel", b: "performance.now()", max: 0.5 },
  { id: "wasi-copy-exact-vs-nodewasi", what: "WASI clock_time_get through the copy path, exact (host-call) kernel, vs node:wasi's own", a: "clock_time_get(MONOTONIC) via node:wasi + wasm-vdso", b: "clock_time_get(MONOTONIC) via node:wasi", max: 1.1 },
  { id: "hostcall-vs-import", what: "host-call MONOTONIC vs the bare counter import it wraps", a: "wasm host-call: MONOTONIC", b: "host counter import (process.hrtime.bigint)", max: 1.15 },
  { id: "timekeeper-update-8aux-vs-nodewasi", what: "one timekeeper update (core + 8 aux clocks) vs one node:wasi read", a: "one timekeeper update (core + 8 aux clocks)", b: NODE_WASI, max: 70 },
  // Context: the peers, whose speed drifts differently from ours between the machine's phases.
  { id: "wasm-called-vs-node-wasi", what: "(context) called read vs node:wasi", a: CALLED, b: NODE_WASI, max: 0.1, context: true },
  { id: "wasm-inlined-vs-node-wasi", what: "(context) inlined read vs node:wasi", a: INLINED, b: NODE_WASI, max: 0.1, context: true },
  { id: "wasm-called-vs-browser-wasi-shim", what: "(context) called read vs browser_wasi_shim", a: CALLED, b: SHIM_WASI, max: 0.03, context: true },
  // Context in a page, where performance.now() is the host counter and browser_wasi_shim the only runtime.
  { id: "wasi-copy-exact-vs-shim", what: "(context) WASI clock_time_get through browser_wasi_shim + wasm-vdso (copy path, exact kernel) vs browser_wasi_shim's own", a: "clock_time_get(MONOTONIC) via browser_wasi_shim + wasm-vdso", b: "clock_time_get(MONOTONIC) via browser_wasi_shim", max: 1.1, context: true },
  { id: "hostcall-vs-import-page", what: "(context) host-call MONOTONIC vs the bare counter import it wraps, in a page (performance.now)", a: "wasm host-call: MONOTONIC", b: "host counter import (performance.now)", max: 1.15, context: true },
  { id: "wasm-called-vs-c-vdso", what: "(context) called read vs C through the real vDSO", a: CALLED, b: C_ROW, max: 0.25, context: true },
  { id: "wasm-inlined-vs-c-vdso", what: "(context) inlined read vs C", a: INLINED, b: C_ROW, max: 0.25, context: true },
];

export interface TargetResult {
  id: string;
  what: string;
  ratio: number;
  max: number;
  met?: boolean;
  paired?: number;
  rounds: number;
  context?: boolean;
}

export const ratioOf = (a: Row, b: Row) => median(a.rounds.map((x, i) => x / b.rounds[i]));

/** Every target whose rows ran; `ratio` is the per-round median (it covers the whole run, the slices one burst at the end). */
export async function measureTargets(rows: Row[], ext?: External): Promise<TargetResult[]> {
  const out: TargetResult[] = [];
  for (const t of TARGETS) {
    const a = rows.find((r) => r.name === t.a), b = rows.find((r) => r.name === t.b);
    if (!a || !b) continue;
    const paired = await pairedRatio(t.a, t.b, ext);
    const r = ratioOf(a, b);
    out.push({ id: t.id, what: t.what, ratio: r, max: t.max, paired, rounds: r, ...(t.context ? { context: true } : { met: r <= t.max && paired !== undefined && paired <= t.max }) });
  }
  return out;
}
