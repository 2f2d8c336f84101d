/**
 * How the bench measures, in Node and in a page alike (no `node:` imports):
 * rows registered as tasks, each run in ROUNDS rounds of tinybench (medians
 * reported), and a target's two rows also run alternately in short slices
 * (the machine changes speed over seconds). Settings come from the
 * environment in Node and from the page's query string in a browser.
 */
import { Bench } from "tinybench";

const isNode = typeof process !== "undefined" && !!process.versions?.node;
const env: Record<string, string | undefined> = isNode ? process.env : Object.fromEntries(new URLSearchParams(location.search));

export const N = 1000; // reads per task in every loop row
export const TIME_MS = Number(env.BENCH_TIME_MS ?? 100);
// The machine is shared and noisy (rows move 20-100 % between moments): every
// row is measured in each of ROUNDS rounds, and the median is reported.
export const ROUNDS = Number(env.BENCH_ROUNDS ?? 7);
export const C_ROW = "C clock_gettime(MONOTONIC), real vDSO";
export const NODE_WASI = "node:wasi clock_time_get(MONOTONIC)";
export const SHIM_WASI = "browser_wasi_shim clock_time_get(MONOTONIC)";
/** The ratio column: a WASI runtime's own clock_time_get, node:wasi in Node; a page has only browser_wasi_shim. */
export const BASELINE = isNode ? NODE_WASI : SHIM_WASI;

export interface Task {
  name: string;
  group: string;
  /** reads per call of fn */
  per: number;
  note?: string;
  fn: () => unknown;
}
export interface Row {
  name: string;
  group: string;
  ns: number; // per read, median over rounds
  rounds: number[]; // per read, each round
  note?: string;
  ratio?: number;
}
/** A row measured outside tinybench (the C program): one figure a round, and a ~3 ms slice for paired ratios. */
export interface External {
  name: string;
  group: string;
  round(): number;
  slice(): number;
}

export const tasks: Task[] = [];
// BENCH_ONLY=<regex> runs a subset of rows (the baseline always runs).
const only = env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY) : undefined;
export function add(group: string, name: string, fn: () => unknown, per = 1, note?: string): void {
  if (only && !only.test(name) && name !== BASELINE) return;
  tasks.push({ name, group, per, note, fn });
}
export const check = (v: bigint | number, what: string) => {
  if (v < 0) throw new Error(`${what} failed: ${v}`);
};
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// A real turn of the event loop: setImmediate in Node; a page has none, and
// its setTimeout(0) is clamped to 4 ms once nested, so a MessageChannel there.
const channel = isNode ? undefined : new MessageChannel();
const turn = () => new Promise<void>((r) => (channel ? ((channel.port1.onmessage = () => r()), channel.port2.postMessage(0)) : setImmediate(r)));

// The kernels tick on this thread's event loop (250 Hz), and tinybench awaits
// only microtasks between iterations: without a real yield no tick would run
// for a whole round, the pages would go seconds stale, and every read would
// take the normalisation the kernel needs only after a stall (a division).
// So between iterations (untimed), the event loop turns whenever 2 ms passed.
let lastTurn = performance.now();
export async function letKernelsTick(force = false): Promise<void> {
  if (!force && performance.now() - lastTurn < 2) return;
  await turn();
  lastTurn = performance.now();
}

/** Every task in ROUNDS rounds (each round starting at another row), plus the external row once a round. */
export async function runRounds(ext?: External, log = console.log): Promise<Row[]> {
  const perRound = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  const extRounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME_MS, warmupTime: 50 });
    const start = Math.floor((round * tasks.length) / ROUNDS);
    for (const t of [...tasks.slice(start), ...tasks.slice(0, start)]) bench.add(t.name, t.fn, { beforeEach: () => letKernelsTick() });
    await bench.run();
    for (const task of bench.tasks) {
      const t = tasks.find((x) => x.name === task.name)!;
      if (task.result.state !== "completed") throw new Error(`${task.name}: ${task.result.state}${"error" in task.result ? `: ${task.result.error}` : ""}`);
      perRound.get(t.name)!.push((task.result.period * 1e6) / t.per);
    }
    if (ext) extRounds.push(ext.round());
    log(`round ${round + 1}/${ROUNDS} done`);
  }
  const rows: Row[] = tasks.map((t) => ({ name: t.name, group: t.group, ns: median(perRound.get(t.name)!), rounds: perRound.get(t.name)!, note: t.note }));
  if (ext) rows.push({ name: ext.name, group: ext.group, ns: median(extRounds), rounds: extRounds });
  return rows;
}

/** The machine's phase over the rounds, from the floor row (a fixed wasm loop): one speed, or which round ran at which. */
export function phaseOf(rows: Row[]): string | undefined {
  const floor = rows.find((r) => r.name.startsWith("floor:"));
  if (!floor) return undefined;
  const lo = Math.min(...floor.rounds), hi = Math.max(...floor.rounds);
  return hi / lo < 1.3 ? `one phase (floor ${lo.toFixed(2)}-${hi.toFixed(2)} ns)` : `mixed phases (floor ${floor.rounds.map((x) => x.toFixed(1)).join(", ")} ns by round)`;
}

// A target's two rows run alternately in 3 ms slices (an external row for its
// own ~3 ms); its paired ratio is the median over adjacent pairs of slices.
function nsPerReadJs(t: Task, sliceMs: number): number {
  const t0 = performance.now();
  let n = 0;
  let t1: number;
  do {
    t.fn();
    n++;
  } while ((t1 = performance.now()) - t0 < sliceMs);
  return ((t1 - t0) * 1e6) / (n * t.per);
}
/** A slice of row `name`, or undefined if it did not run. A JS/wasm slice first runs 1 ms untimed, so it starts warm. */
function slice(name: string, sliceMs: number, ext: External | undefined): (() => number) | undefined {
  if (ext && name === ext.name) return ext.slice;
  const t = tasks.find((x) => x.name === name);
  return t && (() => (nsPerReadJs(t, 1), nsPerReadJs(t, sliceMs)));
}
export async function pairedRatio(a: string, b: string, ext: External | undefined, pairs = 41, sliceMs = 3): Promise<number | undefined> {
  const sa = slice(a, sliceMs, ext), sb = slice(b, sliceMs, ext);
  if (!sa || !sb) return undefined;
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    await letKernelsTick(true);
    // Alternate which goes first, so a drift within a pair cancels out.
    if (i % 2) {
      const y = sb();
      ratios.push(sa() / y);
    } else {
      const x = sa();
      ratios.push(x / sb());
    }
  }
  return median(ratios);
}
