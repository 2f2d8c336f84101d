/**
 * The demo page: a Worker runs the kernel and the PTP chain on a shared
 * memory; this page's own wasm reader reads the clocks every frame. Without
 * cross-origin isolation it says so and runs everything here instead.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { createReader, layout, type Reader, storeMemory, type View } from "../src/index.ts";
import { type Batch, CLOCKS, type Control, Engine } from "./engine.ts";

const { CLOCK_AUX, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_TAI, vdso_clock, vdso_time_data, vdso_timestamp } = layout;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");
const COLORS = ["#58a6ff", "#3fa066", "#e0c341", "#d2704f", "#b48ead", "#88c0d0", "#ebcb8b", "#bf616a"];
const HISTORY = 300;

let reader: Reader;
let memory: WebAssembly.Memory;
let rootView: View;
/** The view the reader is bound to: the root, or a time namespace's. */
let boundView: View;

/** Reads as a task with `view` from now on (a reader is bound once: a new one, the old one closed). */
async function rebind(view: View): Promise<void> {
  const next = await createReader({ memory, view });
  reader.close();
  reader = next;
  boundView = view;
}
let send: (c: Control) => void;
const isolated = globalThis.crossOriginIsolated === true;

// ---- state fed by the simulation ----
const stateHistory: number[][] = Array.from({ length: CLOCKS }, () => []);
const offsets: number[][] = Array.from({ length: CLOCKS }, () => []);
const xs: number[] = [];
const offsetSeries: (number | null)[][] = Array.from({ length: CLOCKS }, () => []);
const freqSeries: (number | null)[][] = Array.from({ length: CLOCKS }, () => []);
const logLines: string[] = [];
let lastStates: number[] = new Array(CLOCKS).fill(0);
let plotPoints = 0;

function onBatch(b: Batch): void {
  for (const s of b.samples) {
    if (s.kind !== "ptp4l") continue;
    const t = Math.round(s.t * 8) / 8;
    if (xs[xs.length - 1] !== t) {
      xs.push(t);
      for (let i = 0; i < CLOCKS; i++) {
        offsetSeries[i].push(null);
        freqSeries[i].push(null);
      }
      if (xs.length > HISTORY) {
        xs.shift();
        for (let i = 0; i < CLOCKS; i++) {
          offsetSeries[i].shift();
          freqSeries[i].shift();
        }
      }
    }
    offsetSeries[s.clock][xs.length - 1] = s.offset;
    freqSeries[s.clock][xs.length - 1] = s.freq;
    stateHistory[s.clock].push(s.state);
    if (stateHistory[s.clock].length > 60) stateHistory[s.clock].shift();
    if (s.state >= 2) {
      offsets[s.clock].push(s.offset);
      if (offsets[s.clock].length > 60) offsets[s.clock].shift();
    }
    plotPoints++;
  }
  lastStates = b.states;
  for (const l of b.logs) logLines.push(l);
  if (logLines.length > 300) logLines.splice(0, logLines.length - 300);
  if (b.namespace) {
    void rebind(b.namespace);
    $("ns-status").textContent = "inside a time namespace: MONOTONIC and BOOTTIME moved; REALTIME, TAI and the aux clocks did not";
  }
}

// ---- start: worker on shared memory, or everything here ----
async function start(): Promise<void> {
  if (isolated) {
    memory = storeMemory(true);
    const worker = new Worker(new URL("./sim-worker.ts", import.meta.url), { type: "module" });
    const view = await new Promise<View>((resolve) => {
      worker.onmessage = (e) => {
        if (e.data.ready) resolve(e.data.view);
        else if (e.data.batch) onBatch(e.data.batch);
      };
      worker.postMessage({ init: memory });
    });
    reader = await createReader({ memory, view });
    rootView = boundView = view;
    send = (c) => worker.postMessage({ control: c });
    status.textContent = "cross-origin isolated: the kernel and PTP simulation run in a Worker and write a SharedArrayBuffer; this page's wasm reader reads it";
  } else {
    const engine = await Engine.create();
    memory = engine.kernel.memory;
    reader = await createReader(engine.kernel);
    rootView = boundView = engine.kernel.rootView();
    send = (c) => engine.control(c);
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      onBatch(engine.step(Math.min(now - last, 100)));
      last = now;
    }, 16);
    status.textContent = "not cross-origin isolated (no COOP/COEP headers): running single-threaded, kernel and reader in this page";
    status.classList.add("warn");
  }
}

// ---- the clock table ----
const CLOCK_ROWS: Array<{ name: string; id: number; ptp?: number }> = [
  { name: "REALTIME", id: CLOCK_REALTIME },
  { name: "MONOTONIC", id: CLOCK_MONOTONIC },
  { name: "TAI", id: CLOCK_TAI },
  ...Array.from({ length: CLOCKS }, (_, i) => ({ name: `AUX${i} (ptp${i}, domain ${i})`, id: CLOCK_AUX + i, ptp: i })),
];
const cells = new Map<number, { time: HTMLElement; state: HTMLElement; strip: HTMLElement; stats: HTMLElement }>();

function buildTable(): void {
  const body = $("clocks").querySelector("tbody")!;
  for (const row of CLOCK_ROWS) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td style="color:${row.ptp !== undefined ? COLORS[row.ptp] : "inherit"}">${row.name}</td><td class="time" data-clock="${row.id}"></td><td class="state"></td><td><div class="strip"></div></td><td class="stats"></td><td></td>`;
    if (row.ptp !== undefined) {
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.checked = true;
      cb.title = "enable this aux clock";
      cb.onchange = () => send({ op: "aux", clock: row.ptp!, enabled: cb.checked });
      tr.lastElementChild!.append(cb, " enabled");
    }
    body.append(tr);
    const [, time, state, stripTd, stats] = Array.from(tr.children) as HTMLElement[];
    cells.set(row.id, { time, state, strip: stripTd.firstElementChild as HTMLElement, stats });
  }
}

function fmt(r: { ret: number; ts?: { sec: bigint; nsec: bigint } }): string {
  if (r.ret !== 0 || !r.ts) return r.ret === -19 ? "disabled (ENODEV)" : `errno ${-r.ret}`;
  return `${r.ts.sec}.${String(r.ts.nsec).padStart(9, "0")}`;
}

function renderClocks(): void {
  for (const row of CLOCK_ROWS) {
    const c = cells.get(row.id)!;
    c.time.textContent = fmt(reader.clockGettime(row.id));
    if (row.ptp === undefined) continue;
    const st = lastStates[row.ptp] ?? 0;
    c.state.textContent = `s${st}`;
    c.state.className = `state s${st}`;
    c.strip.innerHTML = stateHistory[row.ptp].map((s) => `<span class="s${s}" title="s${s}"></span>`).join("");
    const o = offsets[row.ptp];
    const rms = o.length ? Math.sqrt(o.reduce((a, b) => a + b * b, 0) / o.length) : 0;
    const max = o.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    c.stats.textContent = o.length ? `${rms.toFixed(0)} / ${max.toFixed(0)}` : "-";
  }
}

// ---- plots ----
let plotOffset: uPlot;
let plotFreq: uPlot;
function buildPlots(): void {
  // Offsets: a symmetric-log axis, so a 1 ms step and a 100 ns steady state both stay readable.
  const opts = (title: string, log = false): uPlot.Options => ({
    width: Math.max(300, (document.body.clientWidth - 60) / 2),
    height: 220,
    legend: { show: false },
    scales: { x: { time: false }, y: log ? { distr: 4, asinh: 100 } : {} },
    axes: [{ stroke: "#8a93a5", grid: { stroke: "#222" } }, { stroke: "#8a93a5", grid: { stroke: "#222" }, size: 70 }],
    series: [{ label: "t (s)" }, ...COLORS.map((color, i) => ({ label: `ptp${i}`, stroke: color, spanGaps: true, width: 1 }))],
    title,
  });
  plotOffset = new uPlot(opts("", true), [[], ...COLORS.map(() => [])], $("plot-offset"));
  plotFreq = new uPlot(opts(""), [[], ...COLORS.map(() => [])], $("plot-freq"));
}
function renderPlots(): void {
  plotOffset.setData([xs, ...offsetSeries] as uPlot.AlignedData);
  plotFreq.setData([xs, ...freqSeries] as uPlot.AlignedData);
}

// ---- the data page, decoded ----
function renderPage(): void {
  const d = new DataView(memory.buffer);
  const vd = boundView.time;
  const rows = ["<tr><th>vdso_clock</th><th>seq</th><th>clock_mode</th><th>cycle_last</th><th>mult</th><th>shift</th><th>basetime[0 or 1] sec</th><th>nsec (shifted)</th></tr>"];
  const names = ["clock_data[0] (CS_HRES_COARSE)", "clock_data[1] (CS_RAW)", ...Array.from({ length: CLOCKS }, (_, i) => `aux_clock_data[${i}]`)];
  names.forEach((name, i) => {
    const vc = vd + (i < 2 ? vdso_time_data.clock_data + i * vdso_clock.SIZE : vdso_time_data.aux_clock_data + (i - 2) * vdso_clock.SIZE);
    const seq = d.getUint32(vc + vdso_clock.seq, true);
    const base = vc + vdso_clock.basetime + (i === 0 ? 1 : i === 1 ? 4 : 0) * vdso_timestamp.SIZE;
    rows.push(
      `<tr><td>${name}</td><td class="${seq & 1 ? "seq-odd" : ""}">${seq}</td><td>${d.getInt32(vc + vdso_clock.clock_mode, true)}</td>` +
        `<td>${d.getBigUint64(vc + vdso_clock.cycle_last, true)}</td><td>${d.getUint32(vc + vdso_clock.mult, true)}</td><td>${d.getUint32(vc + vdso_clock.shift, true)}</td>` +
        `<td>${d.getBigInt64(base, true)}</td><td>${d.getBigUint64(base + 8, true)}</td></tr>`,
    );
  });
  rows.push(`<tr><td>tz_minuteswest / tz_dsttime / hrtimer_res</td><td colspan="7">${d.getInt32(vd + vdso_time_data.tz_minuteswest, true)} / ${d.getInt32(vd + vdso_time_data.tz_dsttime, true)} / ${d.getUint32(vd + vdso_time_data.hrtimer_res, true)}</td></tr>`);
  $("page").innerHTML = rows.join("");
}

// ---- reads per second, measured here ----
let wasmRate = 0;
let nowRate = 0;
/** The same JS loop around each: the library's own read (`reader.now`) and `performance.now()`. */
function measureRates(): void {
  const n = 20000;
  const now = reader.now;
  let t0 = performance.now();
  let acc = 0;
  for (let i = 0; i < n; i++) acc += now(CLOCK_MONOTONIC);
  let dt = performance.now() - t0;
  if (dt > 0 && acc > 0) wasmRate = 0.8 * wasmRate + 0.2 * (n / dt) * 1000;
  t0 = performance.now();
  acc = 0;
  for (let i = 0; i < n; i++) acc += performance.now();
  dt = performance.now() - t0;
  if (dt > 0 && acc > 0) nowRate = 0.8 * nowRate + 0.2 * (n / dt) * 1000;
  $("rates").textContent = `reads per second in this page, a JS loop each: reader.now() ${(wasmRate / 1e6).toFixed(1)} M, performance.now() ${(nowRate / 1e6).toFixed(1)} M`;
}

// ---- controls ----
function wireControls(): void {
  const sel = $<HTMLSelectElement>("ctl-clock");
  for (let i = 0; i < CLOCKS; i++) sel.add(new Option(`ptp${i}`, String(i)));
  const clock = () => Number(sel.value);
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  $("speed").onchange = () => send({ op: "speed", value: Number($<HTMLSelectElement>("speed").value) });
  $("ctl-apply").onclick = () => {
    send({ op: "oscillator", clock: clock(), ppm: num("ctl-ppm") });
    send({ op: "wander", clock: clock(), ppb: num("ctl-wander") });
    send({ op: "jitter", clock: clock(), ns: num("ctl-jitter") });
    send({ op: "syncInterval", clock: clock(), log2: Number($<HTMLSelectElement>("ctl-sync").value) });
    send({ op: "gains", clock: clock(), kp: num("ctl-kp"), ki: num("ctl-ki") });
  };
  $("ctl-step").onclick = () => send({ op: "stepClock", clock: clock(), ns: 1e6 });
  $("ctl-step-gm").onclick = () => send({ op: "stepGrandmaster", clock: clock(), ns: 1e6 });
  $("ns-enter").onclick = () => send({ op: "namespace", monoS: num("ns-mono"), bootS: num("ns-boot") });
  $("ns-leave").onclick = () => {
    void rebind(rootView);
    $("ns-status").textContent = "root namespace";
  };
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
    renderPage();
    $("log").textContent = logLines.slice(-120).join("\n");
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
buildTable();
buildPlots();
wireControls();
requestAnimationFrame(frame);
window.__demo = {
  isolated,
  readouts: () => Array.from(document.querySelectorAll<HTMLElement>("td.time")).map((e) => e.textContent),
  plotPoints: () => plotPoints,
  states: () => lastStates.slice(),
  fps: () => fps,
  control: (c: Control) => send(c),
};
