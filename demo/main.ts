/**
 * The demo page: a Worker runs the kernel and the PTP chain on a shared
 * memory; this page's own wasm reader reads the clocks every frame. Without
 * cross-origin isolation it says so and runs everything here instead.
 *
// Longer than ~350 lines on purpose: the page is one view (clocks, plots,
// controls, writer, data page, log) over one state; each section is marked.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { createReader, layout, type Reader, type ReaderStatus, storeMemory, type View } from "../src/index.ts";
import { type Batch, CLOCKS, type ClockParams, type Control, Engine, initialParams, type Point, type Reply, type Resume } from "./engine.ts";
import { axis, COLORS, fmtNs, stroke } from "./look.ts";
import { addSample, buildStatsPlots, redrawStats, renderStats, statsSnapshot } from "./stats-plots.ts";

const { CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_TAI, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_time_data, vdso_timestamp } = layout;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");
/** The plots show this much virtual time, whatever each clock's sync interval. */
const WINDOW_S = 240;
const isolated = globalThis.crossOriginIsolated === true;

// ---- the store and the page's readers ----
let memory: WebAssembly.Memory;
let rootView: View;
/** The reader the table uses: bound to the root, or to a time namespace's view. */
let reader: Reader;
/** Always bound to the root view (the namespace panel compares against it). */
let rootReader: Reader;
let boundView: View;

/** Reads as a task with `view` from now on (a reader is bound once: a new one, the old one closed). */
async function rebind(view: View): Promise<void> {
  const next = view === rootView ? rootReader : await createReader({ memory, view });
  if (reader !== rootReader) reader.close();
  reader = next;
  boundView = view;
}

// ---- the machine: a Worker (isolated) or an Engine in this page ----
interface Machine {
  send(c: Control): void;
  /** "close": the kernel closes its store, then the machine ends; "kill": it ends with no goodbye. */
  stop(how: "close" | "kill"): Promise<void>;
  restart(resume: Resume): Promise<void>;
}
let machine: Machine;
let running = false;
let lastResume: Resume | undefined;
let sent = 0;

function send(c: Control): void {
  if (!running) {
    report(false, `${c.op}: refused, the kernel is stopped (restart it first)`);
    return;
  }
  sent++;
  machine.send(c);
}

type Spawning = Machine & { spawn(resume?: Resume): Promise<View> };

function workerMachine(): Spawning {
  let worker: Worker;
  let closedAck: (() => void) | undefined;
  const spawn = (resume?: Resume) =>
    new Promise<View>((resolve, reject) => {
      worker = new Worker(new URL("./sim-worker.ts", import.meta.url), { type: "module" });
      worker.onmessage = (e) => {
        const d = e.data as { ready?: boolean; view?: View; batch?: Batch; closed?: boolean; error?: string };
        if (d.error) reject(new Error(d.error));
        if (d.batch) onBatch(d.batch);
        if (d.ready) resolve(d.view!);
        if (d.closed) closedAck?.();
      };
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage({ init: memory, resume });
    });
  return {
    send: (c) => worker.postMessage({ control: c }),
    async stop(how) {
      if (how === "close") {
        // Asked to, the Worker closes its own kernel: kernel.close() marks the store closed, as a clean shutdown does.
        await new Promise<void>((r) => {
          closedAck = r;
          worker.postMessage({ control: { op: "close" } });
        });
      }
      worker.terminate();
    },
    async restart(resume) {
      await spawn(resume);
    },
    spawn,
  };
}

function pageMachine(): Spawning {
  let engine: Engine;
  let timer: ReturnType<typeof setInterval> | undefined;
  const spawn = async (resume?: Resume) => {
    engine = await Engine.create(memory, resume);
    memory = engine.kernel.memory;
    let last = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      onBatch(engine.step(Math.min(now - last, 100)));
      last = now;
    }, 16);
    return engine.kernel.rootView();
  };
  return {
    spawn,
    send: (c) => engine.control(c),
    async stop(how) {
      clearInterval(timer);
      if (how === "close") {
        onBatch(engine.step(0));
        engine.close();
      }
      // "kill" in one thread: the engine is simply dropped, its store left as it was.
    },
    async restart(resume) {
      await spawn(resume);
    },
  };
}

async function start(): Promise<void> {
  let view: View;
  if (isolated) {
    memory = storeMemory(true);
    const m = workerMachine();
    machine = m;
    view = await m.spawn();
    status.textContent = "cross-origin isolated: the kernel and the PTP simulation run in a Worker and write a SharedArrayBuffer; this page's wasm reader reads it";
  } else {
    const m = pageMachine();
    machine = m;
    memory = storeMemory(false);
    view = await m.spawn();
    status.textContent = "not cross-origin isolated (no COOP/COEP headers): running single-threaded, kernel and reader in this page";
    status.classList.add("warn");
  }
  running = true;
  rootReader = reader = await createReader({ memory, view });
  rootView = boundView = view;
}

// ---- state fed by the simulation ----
type Kind = "ptpOff" | "ptpTruth" | "auxTruth" | "sysOff" | "ptpFreq" | "sysFreq" | "delay";
const KINDS: Kind[] = ["ptpOff", "ptpTruth", "auxTruth", "sysOff", "ptpFreq", "sysFreq", "delay"];
const xs: number[] = [];
const series = Object.fromEntries(KINDS.map((k) => [k, Array.from({ length: CLOCKS }, () => [] as (number | null)[])])) as Record<Kind, (number | null)[][]>;
/** ptp4l's state at each x (for the linear zoom: locked samples only). */
const lockedAt: boolean[][] = Array.from({ length: CLOCKS }, () => []);
const stateHistory: number[][] = Array.from({ length: CLOCKS }, () => []);
const offsets: number[][] = Array.from({ length: CLOCKS }, () => []);
interface LogLine {
  text: string;
  clock: number | null;
  daemon: string;
}
const logLines: LogLine[] = [];
let logDirty = true;
let lastStates: number[] = new Array(CLOCKS).fill(0);
let sysStates: number[] = new Array(CLOCKS).fill(0);
let enabled: boolean[] = new Array(CLOCKS).fill(true);
let plotPoints = 0;
let simTime = 0;
/** Marks on the plots: what was done (or what a servo did), when, to which clock. */
const events: Array<{ t: number; clock: number | null; text: string }> = [];
/** The parameters as the engine holds them (from its last batch). */
let params: ClockParams[] = initialParams();
let speed = 1;

function column(t: number): number {
  if (xs[xs.length - 1] === t) return xs.length - 1;
  if (xs.length && t < xs[xs.length - 1]) {
    // An earlier sample (two clocks' events in one batch): find or insert its column.
    let i = xs.length - 1;
    while (i > 0 && xs[i - 1] >= t) i--;
    if (xs[i] === t) return i;
    xs.splice(i, 0, t);
    for (const k of KINDS) for (const s of series[k]) s.splice(i, 0, null);
    for (const l of lockedAt) l.splice(i, 0, false);
    return i;
  }
  xs.push(t);
  for (const k of KINDS) for (const s of series[k]) s.push(null);
  for (const l of lockedAt) l.push(false);
  return xs.length - 1;
}

function trim(): void {
  let n = 0;
  while (n < xs.length && xs[n] < simTime - WINDOW_S) n++;
  if (!n) return;
  xs.splice(0, n);
  for (const k of KINDS) for (const s of series[k]) s.splice(0, n);
  for (const l of lockedAt) l.splice(0, n);
  while (events.length && events[0].t < simTime - WINDOW_S) events.shift();
}

function onSample(s: Point): void {
  const col = column(Math.round(s.t * 8) / 8);
  const i = s.clock;
  if (s.kind === "ptp4l") {
    series.ptpOff[i][col] = s.offset;
    series.ptpTruth[i][col] = s.truth;
    series.ptpFreq[i][col] = s.freq;
    series.delay[i][col] = s.delay;
    lockedAt[i][col] = s.state >= 2;
    const h = stateHistory[i];
    if (h.length && h[h.length - 1] >= 2 && s.state < 2) events.push({ t: s.t, clock: i, text: `ptp${i} s${s.state}` });
    h.push(s.state);
    if (h.length > 60) h.shift();
    if (s.state >= 2) {
      offsets[i].push(s.offset);
      if (offsets[i].length > 60) offsets[i].shift();
    }
    plotPoints++;
  } else {
    series.sysOff[i][col] = s.offset;
    series.sysFreq[i][col] = s.freq;
    series.auxTruth[i][col] = Number.isFinite(s.truth) ? s.truth : null;
    addSample(i, s.t, s.truth, s.state >= 2 && (stateHistory[i].at(-1) ?? 0) >= 2);
  }
}

function onBatch(b: Batch): void {
  simTime = b.simTime;
  for (const s of b.samples) onSample(s);
  trim();
  lastStates = b.states;
  sysStates = b.sysStates;
  enabled = b.enabled;
  lastResume = b.resume;
  speed = b.resume.speed;
  const before = params;
  params = b.resume.clocks.map(({ ppm, wanderPpb, jitterNs, logSync, kp, ki, customGains }) => ({ ppm, wanderPpb, jitterNs, logSync, kp, ki, customGains }));
  if (JSON.stringify(before[selected()]) !== JSON.stringify(params[selected()])) fillForm(false);
  for (const l of b.logs) {
    const m = /^(\w+)\[[\d.]+\]: \[ptp(\d+)\]/.exec(l);
    logLines.push({ text: l, clock: m ? Number(m[2]) : null, daemon: m?.[1] ?? "" });
  }
  for (const r of b.replies) onReply(r);
  if (logLines.length > 600) logLines.splice(0, logLines.length - 600);
  if (b.logs.length || b.replies.length) logDirty = true;
  if (b.namespace) {
    const ns = b.namespace;
    void rebind(ns).then(() => {
      $("ns-status").textContent = "inside a time namespace: MONOTONIC and BOOTTIME moved by the offsets; REALTIME, TAI and the aux clocks did not";
      $("timens-wrap").hidden = false;
    });
  }
}

// ---- what the visitor did, and what came of it ----
function report(ok: boolean, text: string, clock: number | null = null): void {
  const msg = $("ctl-msg");
  msg.textContent = text;
  msg.className = `msg ${ok ? "ok" : "err"}`;
  logLines.push({ text: `demo[${simTime.toFixed(3)}]: ${ok ? "" : "refused: "}${text}`, clock, daemon: "demo" });
  logDirty = true;
}
function onReply(r: Reply): void {
  report(r.ok, r.text, r.clock ?? null);
  if (r.ok && /stepped|enabled|disabled|oscillator|sync interval|kp|jitter|wander/.test(r.text)) events.push({ t: simTime, clock: r.clock ?? null, text: r.text.replace(/ \(.*\)$/, "") });
}

// ---- the clock table ----
const CLOCK_ROWS: Array<{ name: string; id: number; ptp?: number; title: string }> = [
  { name: "REALTIME", id: CLOCK_REALTIME, title: "CLOCK_REALTIME (UTC, the host's wall clock at start)" },
  { name: "MONOTONIC", id: CLOCK_MONOTONIC, title: "CLOCK_MONOTONIC (since the kernel started)" },
  { name: "TAI", id: CLOCK_TAI, title: "CLOCK_TAI (REALTIME + 37 s)" },
  ...Array.from({ length: CLOCKS }, (_, i) => ({ name: `AUX${i}`, id: CLOCK_AUX + i, ptp: i, title: `CLOCK_AUX+${i}: steered by phc2sys to ptp${i}'s PHC (PTP domain ${i}${i === 0 ? ", a global time on TAI" : ", a working clock with its own epoch"})` })),
];
const cells = new Map<number, { time: HTMLElement; ptp: HTMLElement; sys: HTMLElement; strip: HTMLElement; stats: HTMLElement; cb?: HTMLInputElement; tr: HTMLElement }>();
const stripKey: string[] = [];

function buildTable(): void {
  const body = $("clocks").querySelector("tbody")!;
  for (const row of CLOCK_ROWS) {
    const tr = document.createElement("tr");
    const sw = row.ptp !== undefined ? `<span class="sw" style="background:${COLORS[row.ptp]}"></span>` : `<span class="sw"></span>`;
    tr.innerHTML =
      `<td title="${row.title}">${sw}${row.name}</td><td class="time" data-clock="${row.id}"></td><td></td><td></td>` +
      `<td><div class="strip">${"<span></span>".repeat(60)}</div></td><td class="num"></td><td></td>`;
    const [, time, ptp, sys, stripTd, stats, on] = Array.from(tr.children) as HTMLElement[];
    let cb: HTMLInputElement | undefined;
    if (row.ptp !== undefined) {
      const i = row.ptp;
      cb = document.createElement("input");
      cb.type = "checkbox";
      cb.checked = true;
      cb.title = `enable CLOCK_AUX+${i}`;
      cb.setAttribute("aria-label", `CLOCK_AUX+${i} enabled`);
      cb.onclick = (e) => e.stopPropagation();
      cb.onchange = () => send({ op: "aux", clock: i, enabled: cb!.checked });
      on.append(cb);
      tr.onclick = () => select(i);
    }
    body.append(tr);
    cells.set(row.id, { time, ptp, sys, strip: stripTd.firstElementChild as HTMLElement, stats, cb, tr });
  }
}

const badge = (el: HTMLElement, s: number | null) => {
  const cls = s === null ? "state off" : `state s${s}`;
  if (el.firstElementChild?.className === cls) return;
  el.innerHTML = `<span class="${cls}">${s === null ? "off" : `s${s}`}</span>`;
};

/**
 * Every row at one instant. The counter is virtual: time moves only when the
 * Worker advances the arch page's counter word. Read it, read all 11 clocks in
 * a tight loop, read it again: equal, every row was read at that one counter
 * value (else read again). With the writer gone, readers carry time forward
 * with the host's clock: the rows then come from one loop, microseconds apart.
 */
let counterWords: BigUint64Array;
function counterNow(): bigint {
  if (counterWords?.buffer !== memory.buffer) counterWords = new BigUint64Array(memory.buffer);
  return Atomics.load(counterWords, (rootView.arch! + vdso_arch_data.counter) >> 3);
}
const results: Array<ReturnType<Reader["clockGettime"]>> = [];
let instantNote = "";
let lastStatus: ReaderStatus | undefined;
function readAll(): void {
  let c0 = 0n;
  let c1 = 1n;
  let tries = 0;
  let span = 0;
  while (c0 !== c1 && tries < 5) {
    tries++;
    const p0 = performance.now();
    c0 = counterNow();
    for (let i = 0; i < CLOCK_ROWS.length; i++) results[i] = reader.clockGettime(CLOCK_ROWS[i].id);
    c1 = counterNow();
    span = performance.now() - p0;
  }
  // reader.status() is read with the writer panel (every 15 frames), not every frame.
  instantNote =
    lastStatus && (lastStatus.degraded || lastStatus.writer === "stale")
      ? `writer ${lastStatus.writer}: the rows carry the last published state forward with the host's clock, read in one loop (${(span * 1000).toFixed(0)} µs)`
      : c0 === c1
        ? `every row read at one counter value, ${c0} (the counter is virtual: it moves only when the Worker advances it)`
        : `the counter moved during ${tries} tries; rows read in one loop`;
}

function fmt(r: { ret: number; ts?: { sec: bigint; nsec: bigint } }): string {
  if (r.ret !== 0 || !r.ts) return r.ret === -layout.ENODEV ? "disabled (ENODEV)" : `errno ${-r.ret}`;
  return `${r.ts.sec}.${String(r.ts.nsec).padStart(9, "0")}`;
}

function renderClocks(): void {
  readAll();
  CLOCK_ROWS.forEach((row, k) => {
    const c = cells.get(row.id)!;
    const r = results[k];
    c.time.textContent = fmt(r);
    c.time.classList.toggle("err", r.ret !== 0);
    if (row.ptp === undefined) return;
    const i = row.ptp;
    badge(c.ptp, lastStates[i] ?? 0);
    badge(c.sys, enabled[i] ? (sysStates[i] ?? 0) : null);
    if (c.cb && document.activeElement !== c.cb) c.cb.checked = enabled[i];
    const h = stateHistory[i];
    const key = `${h.length}:${h[h.length - 1]}:${plotPoints}`;
    if (stripKey[i] !== key) {
      stripKey[i] = key;
      const spans = c.strip.children;
      const off = 60 - h.length;
      for (let j = 0; j < 60; j++) {
        const s = j >= off ? h[j - off] : -1;
        (spans[j] as HTMLElement).className = s >= 0 ? `s${s}` : "";
      }
      const o = offsets[i];
      const rms = o.length ? Math.sqrt(o.reduce((a, b) => a + b * b, 0) / o.length) : 0;
      const max = o.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
      c.stats.textContent = o.length ? `${rms.toFixed(0)} / ${max.toFixed(0)}` : "-";
    }
  });
}

// ---- selection: one clock picked out in the table, legend, plots and controls ----
let selectedClock: number | null = null;
const selected = () => Number($<HTMLSelectElement>("ctl-clock").value || 0);
function select(i: number | null): void {
  selectedClock = selectedClock === i ? null : i;
  if (selectedClock !== null) {
    $<HTMLSelectElement>("ctl-clock").value = String(selectedClock);
    fillForm(true);
  }
  CLOCK_ROWS.forEach((row) => cells.get(row.id)!.tr.classList.toggle("sel", row.ptp !== undefined && row.ptp === selectedClock));
  document.querySelectorAll<HTMLButtonElement>("#legend button").forEach((b, j) => {
    b.setAttribute("aria-pressed", String(j === selectedClock));
    b.classList.toggle("dim", selectedClock !== null && j !== selectedClock);
  });
  plotOffset?.redraw(false);
  plotFreq?.redraw(false);
  redrawStats();
}

// ---- plots ----
const KIND_INFO: Record<Kind, { title: string; axis: string }> = {
  ptpOff: { title: "ptp4l offset from master (measured, what the servo sees)", axis: "offset (ns)" },
  ptpTruth: { title: "PHC time error: PHC minus grandmaster (true)", axis: "time error (ns)" },
  auxTruth: { title: "CLOCK_AUX+n time error: what readers get, minus grandmaster (true)", axis: "time error (ns)" },
  sysOff: { title: "phc2sys offset: CLOCK_AUX+n minus PHC (measured)", axis: "offset (ns)" },
  ptpFreq: { title: "ptp4l frequency correction", axis: "frequency (ppb)" },
  sysFreq: { title: "phc2sys frequency correction (clock_adjtime ADJ_FREQUENCY)", axis: "frequency (ppb)" },
  delay: { title: "ptp4l path delay (moving median of 10)", axis: "path delay (ns)" },
};
let plotOffset: uPlot | undefined;
let plotFreq: uPlot | undefined;
const kind1 = () => $<HTMLSelectElement>("plot-kind").value as Kind;
const kind2 = () => $<HTMLSelectElement>("plot-kind2").value as Kind;
const linear = () => $<HTMLSelectElement>("plot-scale").value === "linear";

function fmtPpb(v: number): string {
  const a = Math.abs(v);
  return a >= 1e3 ? `${v < 0 ? "−" : ""}${+(a / 1e3).toPrecision(3)} ppm` : `${v < 0 ? "−" : ""}${+a.toPrecision(3)} ppb`;
}
/** Ticks of an asinh axis (linear below 100 ns): 0 and ±100, 1000 ... within the range, every decade (every other when crowded). */
function asinhSplits(_u: uPlot, _ax: number, min: number, max: number): number[] {
  const out = [0];
  const dec: number[] = [];
  for (let e = 0; e <= 9; e++) dec.push(10 ** e);
  const pos = dec.filter((d) => d <= max);
  const neg = dec.filter((d) => -d >= min);
  const step = pos.length + neg.length > 9 ? 2 : 1;
  pos.forEach((d, j) => (pos.length - 1 - j) % step === 0 && d >= 100 && out.push(d));
  neg.forEach((d, j) => (neg.length - 1 - j) % step === 0 && d >= 100 && out.push(-d));
  return out.sort((a, b) => a - b);
}
/** The linear zoom: symmetric, over the locked samples in the window. */
function linearRange(): [number, number] {
  const k = kind1();
  let m = 0;
  for (let i = 0; i < CLOCKS; i++) {
    if (selectedClock !== null && i !== selectedClock) continue;
    const s = series[k][i];
    for (let j = 0; j < s.length; j++) {
      const v = s[j];
      if (v !== null && lockedAt[i][j] && Math.abs(v) > m && Math.abs(v) < 1e6) m = Math.abs(v);
    }
  }
  m = Math.max(50, m * 1.1);
  return [-m, m];
}

function eventsPlugin(): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        const [x0, x1] = [u.scales.x.min!, u.scales.x.max!];
        ctx.save();
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.lineWidth = devicePixelRatio;
        let row = 0;
        const shown = events.filter((e) => e.t >= x0 && e.t <= x1 && (selectedClock === null || e.clock === null || e.clock === selectedClock));
        for (const [n, e] of shown.entries()) {
          const label = n >= shown.length - 5;
          if (e.t < x0 || e.t > x1) continue;
          if (selectedClock !== null && e.clock !== null && e.clock !== selectedClock) continue;
          const x = Math.round(u.valToPos(e.t, "x", true));
          ctx.strokeStyle = ctx.fillStyle = e.clock === null ? "#c3cad6" : COLORS[e.clock];
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          if (!label) continue;
          const w = ctx.measureText(e.text).width;
          const tx = x + 3 * devicePixelRatio + w > u.bbox.left + u.bbox.width ? x - 3 * devicePixelRatio - w : x + 3 * devicePixelRatio;
          const ty = u.bbox.top + (12 + 14 * (row++ % 5)) * devicePixelRatio;
          ctx.fillStyle = "rgba(15,17,21,0.85)";
          ctx.fillRect(tx - 2 * devicePixelRatio, ty - 10 * devicePixelRatio, w + 4 * devicePixelRatio, 13 * devicePixelRatio);
          ctx.fillStyle = ctx.strokeStyle;
          ctx.fillText(e.text, tx, ty);
        }
        ctx.restore();
      },
    },
  };
}

function plotOpts(el: HTMLElement, kind: Kind, log: boolean): uPlot.Options {
  const fmtV = kind === "ptpFreq" || kind === "sysFreq" ? fmtPpb : fmtNs;
  return {
    width: Math.max(200, el.clientWidth),
    height: 260,
    padding: [14, 12, 0, 0],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      // A fixed window: 240 s of virtual time, whatever the sync intervals (the first 240 s fill it from the left).
      x: { time: false, range: () => (simTime < WINDOW_S ? [0, WINDOW_S] : [simTime - WINDOW_S, simTime]) },
      y: log ? { distr: 4, asinh: 100 } : kind === "ptpOff" || kind === "ptpTruth" || kind === "auxTruth" || kind === "sysOff" ? { range: () => linearRange() } : {},
    },
    axes: [
      axis("virtual time (s)"),
      axis(KIND_INFO[kind].axis, {
        size: 64,
        ...(log ? { splits: asinhSplits, filter: (_u: uPlot, splits: number[]) => splits } : {}),
        values: (_u: uPlot, vals: Array<number | null>) => vals.map((v) => (v === null ? "" : fmtV(v))),
      }),
    ],
    series: [{ label: "t (s)" }, ...COLORS.map((_, i) => ({ label: `ptp${i}`, stroke: stroke(i, () => selectedClock), spanGaps: true, width: 1.25, points: { show: false } }))],
    plugins: [eventsPlugin()],
  };
}

function buildPlots(): void {
  plotOffset?.destroy();
  plotFreq?.destroy();
  const e1 = $("plot-offset");
  const e2 = $("plot-freq");
  const k1 = kind1();
  const k2 = kind2();
  $("plot-offset-title").textContent = `${KIND_INFO[k1].title}${linear() ? ", linear, locked samples" : ", asinh scale"}`;
  $("plot-freq-title").textContent = KIND_INFO[k2].title;
  plotOffset = new uPlot(plotOpts(e1, k1, !linear()), data(k1), e1);
  plotFreq = new uPlot(plotOpts(e2, k2, false), data(k2), e2);
}
const data = (k: Kind) => [xs, ...series[k]] as uPlot.AlignedData;
function renderPlots(): void {
  plotOffset!.setData(data(kind1()));
  plotFreq!.setData(data(kind2()));
}
function buildLegend(): void {
  const lg = $("legend");
  for (let i = 0; i < CLOCKS; i++) {
    const b = document.createElement("button");
    b.innerHTML = `<span class="sw" style="background:${COLORS[i]}"></span>ptp${i}`;
    b.setAttribute("aria-pressed", "false");
    b.onclick = () => select(i);
    lg.append(b);
  }
  for (const id of ["plot-kind", "plot-kind2", "plot-scale"]) $(id).onchange = () => buildPlots();
  new ResizeObserver(() => {
    for (const [p, id] of [[plotOffset, "plot-offset"], [plotFreq, "plot-freq"]] as const) {
      const w = Math.max(200, $(id).clientWidth);
      if (p && p.width !== w) p.setSize({ width: w, height: 260 });
    }
  }).observe($("plot-offset").parentElement!.parentElement!);
}

// ---- the data page, decoded ----
const MODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(vdso_clock_mode).filter(([, v]) => typeof v === "number").map(([k, v]) => [v as number, k]));
const prevCells = new Map<string, string>();
const ROW_NAMES = ["clock_data[0] CS_HRES_COARSE", "clock_data[1] CS_RAW", ...Array.from({ length: CLOCKS }, (_, i) => `aux_clock_data[${i}]`)];
/**
 * The `vdso_clock` rows of the time page at `vd`. `bases(row)`: which
 * basetime[] (or, in a TIMENS page, offset[]) entries to show for that row.
 */
function pageRows(id: string, vd: number, head: string, bases: (row: number) => Array<[string, number]>): string {
  const d = new DataView(memory.buffer);
  const rows = [`<tr><th>vdso_clock</th><th>seq</th><th>clock_mode</th><th>cycle_last</th><th>mult</th><th>shift</th>${head}</tr>`];
  ROW_NAMES.forEach((name, i) => {
    const vc = vd + (i < 2 ? vdso_time_data.clock_data + i * vdso_clock.SIZE : vdso_time_data.aux_clock_data + (i - 2) * vdso_clock.SIZE);
    const seq = d.getUint32(vc + vdso_clock.seq, true);
    const mode = d.getInt32(vc + vdso_clock.clock_mode, true);
    const cols: Array<[string, string]> = [
      [String(seq), seq & 1 ? "seq-odd" : ""],
      [`${MODE_NAMES[mode] ?? "?"} (${mode})`, "mode"],
      [String(d.getBigUint64(vc + vdso_clock.cycle_last, true)), ""],
      [String(d.getUint32(vc + vdso_clock.mult, true)), ""],
      [String(d.getUint32(vc + vdso_clock.shift, true)), ""],
    ];
    for (const [label, b] of bases(i)) {
      const at = vc + vdso_clock.basetime + b * vdso_timestamp.SIZE;
      if (label) cols.push([label, "mode"]);
      cols.push([String(d.getBigInt64(at, true)), ""], [String(d.getBigUint64(at + 8, true)), ""]);
    }
    const tds = cols.map(([v, cls], j) => {
      const key = `${id}:${i}:${j}`;
      // seq moves at every update: its odd values are marked instead.
      const chg = j !== 0 && prevCells.has(key) && prevCells.get(key) !== v;
      prevCells.set(key, v);
      return `<td class="${cls}${chg ? " chg" : ""}">${v}</td>`;
    });
    rows.push(`<tr><td>${name}</td>${tds.join("")}</tr>`);
  });
  return rows.join("");
}
function renderPage(): void {
  const d = new DataView(memory.buffer);
  const real = boundView.real !== undefined && boundView.real !== layout.NO_PAGE ? boundView.real : boundView.time;
  // Each row's own base: hres/coarse basetime[CLOCK_MONOTONIC], raw basetime[CLOCK_MONOTONIC_RAW], an aux clock basetime[0].
  const base = (i: number): Array<[string, number]> => (i === 0 ? [["1 MONOTONIC", CLOCK_MONOTONIC]] : i === 1 ? [["4 MONOTONIC_RAW", CLOCK_MONOTONIC_RAW]] : [["0 (aux)", 0]]);
  $("page").innerHTML =
    pageRows("page", real, "<th>basetime[i]</th><th>.sec</th><th>.nsec &lt;&lt; shift</th>", base) +
    `<tr><td>tz_minuteswest / tz_dsttime / hrtimer_res</td><td colspan="8" style="text-align:left">${d.getInt32(real + vdso_time_data.tz_minuteswest, true)} / ${d.getInt32(real + vdso_time_data.tz_dsttime, true)} / ${d.getUint32(real + vdso_time_data.hrtimer_res, true)} ns</td></tr>`;
  const inNs = boundView !== rootView;
  $("timens-wrap").hidden = !inNs;
  if (inNs) $("timens").innerHTML = pageRows("timens", boundView.time, "<th>offset[1] MONOTONIC .sec</th><th>.nsec</th><th>offset[7] BOOTTIME .sec</th><th>.nsec</th>", () => [["", CLOCK_MONOTONIC], ["", CLOCK_BOOTTIME]]);
  renderNamespace();
}
function renderNamespace(): void {
  const rows = [
    ["MONOTONIC", CLOCK_MONOTONIC],
    ["BOOTTIME", CLOCK_BOOTTIME],
    ["REALTIME", CLOCK_REALTIME],
    ["AUX0", CLOCK_AUX],
  ] as const;
  const inNs = boundView !== rootView;
  $("ns-table").innerHTML =
    `<tr><th>clock</th><th class="num">root (s.ns)</th><th class="num">${inNs ? "this namespace" : "(not in one)"}</th></tr>` +
    rows.map(([n, id]) => `<tr><td>${n}</td><td class="num">${fmt(rootReader.clockGettime(id))}</td><td class="num">${inNs ? fmt(reader.clockGettime(id)) : "-"}</td></tr>`).join("");
}

// ---- what a read costs here, measured in this page ----
const rate = { now: 0, perf: 0, gettime: 0 };
let perfStepNs = 0;
/** The smallest step performance.now() takes here (coarsened by the browser: 5 µs isolated, 100 µs not). */
function perfStep(): number {
  let min = Infinity;
  let last = performance.now();
  for (let i = 0; i < 50_000; i++) {
    const t = performance.now();
    if (t > last && t - last < min) min = t - last;
    last = t;
  }
  return Number.isFinite(min) ? min * 1e6 : NaN;
}
function loop(n: number, f: () => number): number {
  const t0 = performance.now();
  let acc = 0;
  for (let i = 0; i < n; i++) acc += f();
  const dt = performance.now() - t0;
  return dt > 0 && acc !== 0 ? (n / dt) * 1000 : 0;
}
/** The same JS loop around each: the wasm export itself (`reader.now`), `performance.now()`, and the library's JS method (`reader.clockGettime`). */
function measureRates(): void {
  const now = reader.now;
  const ewma = (k: keyof typeof rate, v: number) => v > 0 && (rate[k] = rate[k] ? 0.8 * rate[k] + 0.2 * v : v);
  ewma("now", loop(20_000, () => now(CLOCK_MONOTONIC)));
  ewma("perf", loop(20_000, () => performance.now()));
  ewma("gettime", loop(3_000, () => reader.clockGettime(CLOCK_MONOTONIC).ret + 1));
  const res = reader.clockGetres(CLOCK_MONOTONIC);
  const resNs = res.ret === 0 && res.ts ? Number(res.ts.sec * 1_000_000_000n + res.ts.nsec) : NaN;
  const m = (v: number) => (v / 1e6).toFixed(1);
  $("rates").innerHTML =
    `reads per second in this page, the same JS loop around each call: <b>reader.now()</b> <b>${m(rate.now)} M</b> (the wasm export) · ` +
    `<b>performance.now()</b> <b>${m(rate.perf)} M</b> · reader.clockGettime() ${m(rate.gettime)} M (the library's JS method, BigInt timespec)`;
  $("speed-panel").innerHTML =
    `<h2>What a read costs here <small>a JS loop of 20 000 calls each, every half second</small></h2><div class="scroll"><table class="mini">` +
    `<tr><th>call</th><th class="num">reads/s</th><th class="num">resolution</th><th>what it measures</th></tr>` +
    `<tr><td>reader.now(CLOCK_MONOTONIC)</td><td>${m(rate.now)} M</td><td>${Number.isFinite(resNs) ? fmtNs(resNs) : "-"}</td><td>the wasm vDSO export called from JS (reader.clockGetres: the virtual counter's ns)</td></tr>` +
    `<tr><td>performance.now()</td><td>${m(rate.perf)} M</td><td>${fmtNs(perfStepNs)}</td><td>the browser's clock (smallest step observed: ${isolated ? "coarsened to 5 µs when cross-origin isolated" : "coarsened to 100 µs without isolation"})</td></tr>` +
    `<tr><td>reader.clockGettime()</td><td>${m(rate.gettime)} M</td><td>${Number.isFinite(resNs) ? fmtNs(resNs) : "-"}</td><td>the library's JS method: a { ret, ts } with BigInt sec/nsec</td></tr></table></div>`;
}

// ---- controls ----
interface Field {
  id: string;
  key: "ppm" | "wanderPpb" | "jitterNs" | "kp" | "ki";
  label: string;
  unit: string;
  check(v: number, p: ClockParams): string | null;
}
const FIELDS: Field[] = [
  { id: "ctl-ppm", key: "ppm", label: "oscillator error", unit: "ppm", check: (v) => (Math.abs(v) <= 200 ? null : "must be within ±200 ppm (ptp4l corrects up to ±1000 ppm; this demo keeps to crystal-like errors)") },
  { id: "ctl-wander", key: "wanderPpb", label: "wander", unit: "ppb/√s", check: (v) => (v >= 0 && v <= 50 ? null : "must be 0 to 50 ppb/√s") },
  { id: "ctl-jitter", key: "jitterNs", label: "network jitter σ", unit: "ns", check: (v) => (v >= 0 && v <= 100_000 ? null : "must be 0 to 100 000 ns") },
  { id: "ctl-kp", key: "kp", label: "kp", unit: "", check: (v, p) => (v > 0 && v <= 1 / 2 ** p.logSync ? null : `must be above 0 and at most ${1 / 2 ** p.logSync} (linuxptp caps kp at 1 / sync interval)`) },
  { id: "ctl-ki", key: "ki", label: "ki", unit: "", check: (v, p) => (v > 0 && v <= 2 / 2 ** p.logSync ? null : `must be above 0 and at most ${2 / 2 ** p.logSync} (linuxptp caps ki at 2 / sync interval)`) },
];
/** The form shows the selected clock's values as the engine holds them. `force`: even over the visitor's unapplied edits. */
function fillForm(force: boolean): void {
  const p = params[selected()];
  for (const f of FIELDS) {
    const el = $<HTMLInputElement>(f.id);
    if (!force && el.classList.contains("changed")) continue;
    el.value = String(+p[f.key].toFixed(6));
    el.classList.remove("changed", "invalid");
  }
  const sync = $<HTMLSelectElement>("ctl-sync");
  if (force || !sync.classList.contains("changed")) {
    sync.value = String(p.logSync);
    sync.classList.remove("changed");
  }
  $("ctl-what").textContent = `ptp${selected()}'s current values${p.customGains ? "" : " (kp, ki: linuxptp's defaults for the sync interval)"}`;
}
function apply(): void {
  const i = selected();
  const p = params[i];
  const errors: string[] = [];
  const next = { ...p };
  const sync = Number($<HTMLSelectElement>("ctl-sync").value);
  next.logSync = sync;
  for (const f of FIELDS) {
    const el = $<HTMLInputElement>(f.id);
    const raw = el.value.trim();
    const v = Number(raw);
    let err: string | null = null;
    el.classList.remove("invalid");
    if (raw !== "" && v === +p[f.key].toFixed(6)) continue; // unchanged: the engine's own value (kp, ki follow the sync interval)
    if (raw === "" || el.validity.badInput) err = "is empty or not a number";
    else if (!Number.isFinite(v)) err = "is not a number";
    else err = f.check(v, next);
    el.classList.toggle("invalid", err !== null);
    if (err) errors.push(`${f.label} ${err}`);
    else (next as Record<string, unknown>)[f.key] = v;
  }
  if (errors.length) {
    report(false, `ptp${i}: nothing applied. ${errors.join("; ")}`, i);
    return;
  }
  const ops: Control[] = [];
  if (next.ppm !== p.ppm) ops.push({ op: "oscillator", clock: i, ppm: next.ppm });
  if (next.wanderPpb !== p.wanderPpb) ops.push({ op: "wander", clock: i, ppb: next.wanderPpb });
  if (next.jitterNs !== p.jitterNs) ops.push({ op: "jitter", clock: i, ns: next.jitterNs });
  if (next.logSync !== p.logSync) ops.push({ op: "syncInterval", clock: i, log2: next.logSync });
  const round = (v: number) => +v.toFixed(6);
  if (round(next.kp) !== round(p.kp) || round(next.ki) !== round(p.ki)) ops.push({ op: "gains", clock: i, kp: next.kp, ki: next.ki });
  if (!ops.length) {
    report(true, `ptp${i}: nothing changed, nothing sent`, i);
    return;
  }
  for (const op of ops) send(op);
  for (const f of FIELDS) $(f.id).classList.remove("changed");
  $("ctl-sync").classList.remove("changed");
}
function wireControls(): void {
  const sel = $<HTMLSelectElement>("ctl-clock");
  for (let i = 0; i < CLOCKS; i++) sel.add(new Option(`ptp${i}`, String(i)));
  const logClock = $<HTMLSelectElement>("log-clock");
  for (let i = 0; i < CLOCKS; i++) logClock.add(new Option(`ptp${i}`, String(i)));
  logClock.onchange = $("log-daemon").onchange = () => {
    logDirty = true;
    renderLog(true);
  };
  sel.onchange = () => {
    fillForm(true);
    if (selectedClock !== null) select(Number(sel.value));
  };
  for (const f of FIELDS) {
    const el = $<HTMLInputElement>(f.id);
    el.oninput = () => el.classList.toggle("changed", el.value !== String(+params[selected()][f.key].toFixed(6)));
  }
  $("ctl-sync").onchange = () => $("ctl-sync").classList.toggle("changed", Number($<HTMLSelectElement>("ctl-sync").value) !== params[selected()].logSync);
  $("speed").onchange = () => {
    const v = Number($<HTMLSelectElement>("speed").value);
    send({ op: "speed", value: v });
    speed = v;
  };
  $("ctl-apply").onclick = apply;
  $("ctl-reset").onclick = () => {
    fillForm(true);
    report(true, `ptp${selected()}: form shows the current values again`, selected());
  };
  $("ctl-step").onclick = () => send({ op: "stepClock", clock: selected(), ns: 1e6 });
  $("ctl-step-gm").onclick = () => send({ op: "stepGrandmaster", clock: selected(), ns: 1e6 });
  $("ns-enter").onclick = () => {
    const mono = $<HTMLInputElement>("ns-mono").value.trim();
    const boot = $<HTMLInputElement>("ns-boot").value.trim();
    const bad = [
      ["monotonic", mono],
      ["boottime", boot],
    ].filter(([, v]) => v === "" || !Number.isSafeInteger(Number(v)));
    if (bad.length) return report(false, `time namespace: ${bad.map(([n]) => n).join(" and ")} offset must be a whole number of seconds`);
    send({ op: "namespace", monoS: Number(mono), bootS: Number(boot) });
  };
  $("ns-leave").onclick = () => {
    if (boundView === rootView) return report(true, "already in the root namespace");
    void rebind(rootView).then(() => {
      $("ns-status").textContent = "root namespace";
      report(true, "left the time namespace: the page's reader reads the root view again");
    });
  };
  $("wr-stop").onclick = () => void stopWriter("close");
  $("wr-kill").onclick = () => void stopWriter("kill");
  $("wr-restart").onclick = () => void restartWriter();
  fillForm(true);
}

// ---- the writer: stop, kill, restart ----
let stoppedAt = 0;
async function stopWriter(how: "close" | "kill"): Promise<void> {
  if (!running) return;
  running = false;
  stoppedAt = performance.now();
  $<HTMLButtonElement>("wr-stop").disabled = $<HTMLButtonElement>("wr-kill").disabled = true;
  await machine.stop(how);
  events.push({ t: simTime, clock: null, text: how === "close" ? "kernel closed" : "Worker killed" });
  report(true, how === "close" ? "the kernel closed its store (kernel.close()) and its Worker ended: readers carry time forward" : "the Worker was terminated without a goodbye: readers see no heartbeat, and after 1 s carry time forward");
  $<HTMLButtonElement>("wr-restart").disabled = false;
}
async function restartWriter(): Promise<void> {
  if (running || !lastResume) return;
  const st = rootReader.status();
  if (st.writer === "running") {
    return report(false, `restart: the old writer's heartbeat is ${((performance.now() - stoppedAt) / 1000).toFixed(1)} s old; adopt: true takes over a store only once its writer is closed or silent for 1 s. Try again in a moment.`);
  }
  $<HTMLButtonElement>("wr-restart").disabled = true;
  const downS = (performance.now() - stoppedAt) / 1000;
  try {
    await machine.restart({ ...lastResume, t0: lastResume.t0 + downS * (lastResume.speed > 0 ? 1 : 0) });
  } catch (e) {
    $<HTMLButtonElement>("wr-restart").disabled = false;
    return report(false, `restart failed: ${String(e)}`);
  }
  running = true;
  events.push({ t: simTime, clock: null, text: "kernel restarted (adopted)" });
  report(true, `a new kernel adopted the store (Kernel.create({ memory, adopt: true })) after ${downS.toFixed(1)} s: every clock continues`);
  $<HTMLButtonElement>("wr-stop").disabled = $<HTMLButtonElement>("wr-kill").disabled = false;
}
function renderWriter(): void {
  const st = (lastStatus = reader.status());
  const arch = rootView.arch!;
  const hb = Atomics.load(counterWords, (arch + vdso_arch_data.heartbeat_ns) >> 3);
  const hostNs = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n + BigInt(Math.round(performance.now() * 1e6));
  const age = Number(hostNs - hb) / 1e6;
  const w = $("wr-state");
  w.textContent = `writer: ${st.writer}, degraded: ${st.degraded}${st.giveUps ? `, gave up ${st.giveUps}×` : ""}`;
  w.className = st.writer === "running" ? "w-running" : "w-degraded";
  $("wr-pubs").textContent = st.publications.toLocaleString("en");
  $("wr-age").textContent = age < 1000 ? `${age.toFixed(0)} ms` : `${(age / 1000).toFixed(1)} s`;
  $("wr-counter").textContent = counterNow().toLocaleString("en");
  $("instant").textContent = instantNote;
  $("paused").hidden = !(speed === 0 && running);
}

// ---- the log: newest at the bottom, followed unless the visitor scrolled up ----
function renderLog(force = false): void {
  if (!logDirty && !force) return;
  logDirty = false;
  const el = $("log");
  const follow = force || el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
  const c = $<HTMLSelectElement>("log-clock").value;
  const d = $<HTMLSelectElement>("log-daemon").value;
  const lines = logLines.filter((l) => (c === "" || l.clock === Number(c) || (l.daemon === "demo" && l.clock === null)) && (d === "" || l.daemon === d));
  el.textContent = lines
    .slice(-200)
    .map((l) => l.text)
    .join("\n");
  if (follow) el.scrollTop = el.scrollHeight;
}

// ---- the frame loop, and a handle for the browser test ----
let frames = 0;
let fps = 0;
let fpsT0 = performance.now();
let slow = 0;
function frame(): void {
  renderClocks();
  if (frames % 15 === 0) {
    renderPlots();
    renderStats();
    renderPage();
    renderWriter();
    renderLog();
  }
  if (frames % 30 === 0) measureRates();
  frames++;
  const now = performance.now();
  if (now - fpsT0 >= 1000) {
    fps = (frames - slow) / ((now - fpsT0) / 1000);
    slow = frames;
    fpsT0 = now;
  }
  requestAnimationFrame(frame);
}

declare global {
  interface Window {
    __demo: unknown;
  }
}

await start();
perfStepNs = perfStep();
buildTable();
buildLegend();
buildPlots();
buildStatsPlots(() => selectedClock);
wireControls();
counterNow();
requestAnimationFrame(frame);
window.__demo = {
  isolated,
  readouts: () => Array.from(document.querySelectorAll<HTMLElement>("#clocks td.time")).map((e) => e.textContent),
  plotPoints: () => plotPoints,
  states: () => lastStates.slice(),
  sysStates: () => sysStates.slice(),
  fps: () => fps,
  control: (c: Control) => send(c),
  /** Each clock's parameters as the engine holds them (its last batch). */
  params: () => JSON.parse(JSON.stringify(params)),
  sent: () => sent,
  /** The histogram's and the TDEV plot's data, and the per-clock sample counts the note shows. */
  stats: statsSnapshot,
  running: () => running,
  status: () => {
    const s = reader.status();
    return { ...s, publications: String(s.publications) };
  },
};
