/**
 * The steady-state plots: a histogram of each clock's time error and its TDEV
 * on log-log axes, recomputed once a second (not every frame).
 *
 * The series is the true time error of CLOCK_AUX+n (what a reader of the aux
 * clock gets, minus its grandmaster): the end of the chain, after both servos,
 * and sampled at phc2sys's poll, every second of virtual time whatever the
 * clock's sync interval, so every clock has the same fixed τ0. (The PHC's error
 * comes at each clock's sync interval, which a visitor can change mid-run.)
 */
import uPlot from "uplot";
import { CLOCKS } from "./engine.ts";
import { axis, fmtNs, stroke } from "./look.ts";
import { halfWidthFor, histogram, SteadyRun, tdev } from "./stats.ts";

const BINS = 30;
/** phc2sys polls once a second of virtual time. */
const TAU0 = 1;
const HEIGHT = 260;
const runs = Array.from({ length: CLOCKS }, () => new SteadyRun(TAU0));
let plotHist: uPlot | undefined;
let plotTdev: uPlot | undefined;
let selected: () => number | null = () => null;
let lastRender = -Infinity;
/** What the note shows: per clock, steady-state samples and how many fell outside the bins. */
let shown: Array<{ n: number; outside: number }> = [];
let halfWidth = 1;

/** One phc2sys sample of clock `i`: its true time error, and whether both its servos are locked. */
export function addSample(i: number, t: number, truth: number, locked: boolean): void {
  runs[i].add(t, truth, locked);
}

function opts(el: HTMLElement, x: uPlot.Axis, y: uPlot.Axis, scales: uPlot.Scales, series: Partial<uPlot.Series>): uPlot.Options {
  return {
    width: Math.max(200, el.clientWidth),
    height: HEIGHT,
    // The right padding keeps the last x label (centred on the plot's edge) inside the canvas.
    padding: [14, 28, 0, 0],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales,
    axes: [x, { size: 64, ...y }],
    series: [{}, ...Array.from({ length: CLOCKS }, (_, i) => ({ label: `ptp${i}`, stroke: stroke(i, selected), width: 1.25, points: { show: false }, ...series }))],
  };
}

const fmtAll = (f: (v: number) => string) => (_u: uPlot, vals: Array<number | null>) => vals.map((v) => (v === null ? "" : f(v)));
/** Log axes: label 1, 10, 100 ... and 3, 30 ... only when a decade has room; the other splits keep their grid line. */
const logLabels = (f: (v: number) => string) => (_u: uPlot, vals: Array<number | null>) =>
  vals.map((v) => (v === null ? "" : /^[13]$/.test(String(+(v / 10 ** Math.floor(Math.log10(v) + 1e-9)).toPrecision(1))) ? f(v) : ""));

/** Both plots, into #plot-hist and #plot-tdev; `sel` says which clock is picked out. */
export function buildStatsPlots(sel: () => number | null): void {
  selected = sel;
  const eh = document.getElementById("plot-hist")!;
  const et = document.getElementById("plot-tdev")!;
  plotHist = new uPlot(
    opts(
      eh,
      axis("time error (ns)", { values: fmtAll(fmtNs) }),
      axis("samples", { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }),
      { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      // A step per bin: bin k's count held from edge k to edge k + 1.
      { paths: uPlot.paths.stepped!({ align: 1 }) },
    ),
    [[], ...runs.map(() => [])],
    eh,
  );
  plotTdev = new uPlot(
    opts(et, axis("τ (s)", { values: logLabels((v) => String(v)) }), axis("TDEV (ns)", { values: logLabels(fmtNs) }), { x: { time: false, distr: 3, log: 10 }, y: { distr: 3, log: 10 } }, { spanGaps: true }),
    [[], ...runs.map(() => [])],
    et,
  );
  new ResizeObserver(() => {
    for (const [p, el] of [
      [plotHist, eh],
      [plotTdev, et],
    ] as const) {
      const w = Math.max(200, el.clientWidth);
      if (p && p.width !== w) p.setSize({ width: w, height: HEIGHT });
    }
  }).observe(eh.parentElement!.parentElement!);
}

/** Recomputes both plots, at most once a second unless `force`d (a new selection changes the bins). */
export function renderStats(force = false): void {
  const now = performance.now();
  if (!plotHist || !plotTdev || (!force && now - lastRender < 1000)) return;
  lastRender = now;
  // The bins fit the clocks on show: the selected one, or all.
  const sel = selected();
  halfWidth = halfWidthFor(runs.filter((_, i) => sel === null || sel === i).map((r) => r.xs));
  const hs = runs.map((r) => histogram(r.xs, halfWidth, BINS));
  plotHist.setData([hs[0].edges, ...hs.map((h) => [...h.counts, h.counts[BINS - 1]])]);
  shown = hs.map((h, i) => ({ n: runs[i].xs.length, outside: h.under + h.over }));

  const ts = runs.map((r) => tdev(r.xs, TAU0));
  const longest = ts.reduce((a, b) => (b.length > a.length ? b : a), []);
  // Aligned on the longest run's τs; a shorter run has no value (null) at the longer τs, and a 0 has no place on a log axis.
  plotTdev.setData([longest.map((p) => p.tau), ...ts.map((t) => longest.map((_, k) => ((t[k]?.tdev ?? 0) > 0 ? t[k].tdev : null)))]);
  renderNote();
}

/** A new selection: its lines stand out, and the bins fit it. */
export const redrawStats = () => renderStats(true);

function renderNote(): void {
  const total = shown.reduce((a, s) => a + s.outside, 0);
  document.getElementById("stats-note")!.innerHTML =
    `Steady state: from 10 s after both servos lock (s2), one true time error a second (phc2sys's poll); an unlock, a step or a gap starts it again, and the last hour is kept. ` +
    `Bins of ${fmtNs((2 * halfWidth) / BINS)} over ±${fmtNs(halfWidth)} (the 99th percentile of |error|, rounded up)${total ? `; ${total} samples outside` : ""}. Samples per clock: ` +
    shown.map((s, i) => `<span class="stat-n" data-clock="${i}" data-n="${s.n}" data-outside="${s.outside}">ptp${i} ${s.n}${s.outside ? ` (${s.outside} outside)` : ""}</span>`).join(" · ");
}

/** What the plots hold now (for the browser test). */
export function statsSnapshot(): { hist: uPlot.AlignedData; tdev: uPlot.AlignedData; shown: typeof shown } {
  return { hist: plotHist!.data, tdev: plotTdev!.data, shown };
}
