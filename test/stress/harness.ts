/**
 * The torn-read harness: one writer updating a time page at full speed with
 * the production writer's seqlock (writeBegin/writeEnd for clock_data,
 * writeBeginClock/writeEndClock for an aux clock), every field any reader path
 * reads derived from one update counter, and N reader workers checking every
 * read of the paths asked for (see assembly/stress.ts for the paths and the
 * invariant). A namespace page (seq 1, mode TIMENS, offsets) stands in front
 * of the time page for the namespace paths.
 *
 * Builds: "stress" is the production read path; "stress-noretry-<loop>" drops
 * the retry check of one seq loop only (`--use VDSO_NO_RETRY_<LOOP>`), the
 * negative control of the paths that go through that loop; "stress-noseqlock"
 * drops the whole seqlock (no wait, no retry).
 */
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
  CLOCK_TAI, CS_HRES_COARSE, CS_RAW, NO_PAGE, VDSO_BASE_AUX, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_timestamp,
} from "../../assembly/layout.ts";
import { DataStore, storeMemory, type View } from "../../src/datastore.ts";
import { writeBegin, writeBeginClock, writeEnd, writeEndClock } from "../../src/kernel/seqlock.ts";
import { createTimeNamespace } from "../../src/kernel/timens.ts";
import { auxClockAt, clockAt } from "../../src/kernel/vsyscall.ts";
import { spawn } from "../../src/workers/spawn.ts";

/** The reader paths, numbered as assembly/stress.ts's PATH_* (the `path` of check_reads). */
export const PATHS = ["hres", "raw", "coarse", "aux", "gettimeofday", "value", "wasi", "hres_timens", "coarse_timens", "aux_timens"] as const;
export type Path = (typeof PATHS)[number];
/** Paths read through the namespace page. */
const TIMENS_PATHS: readonly Path[] = ["hres_timens", "coarse_timens", "aux_timens"];

/** The seq loops of assembly/gettimeofday.ts, each removable alone with `--use VDSO_NO_RETRY_<LOOP>`. */
export const LOOPS = ["hres", "hres-timens", "coarse", "coarse-timens", "aux", "value"] as const;
export type Loop = (typeof LOOPS)[number];
/**
 * The paths whose reads go through each loop's retry check, so whose check
 * must catch its removal. raw and gettimeofday have no loop of their own: they
 * are do_hres (on clock_data[1], and REALTIME in microseconds). wasi reads
 * through hres_value (precise) and do_coarse (coarse precision).
 */
export const PATHS_OF_LOOP: Record<Loop, readonly Path[]> = {
  hres: ["hres", "raw", "gettimeofday"],
  "hres-timens": ["hres_timens"],
  coarse: ["coarse", "wasi"],
  "coarse-timens": ["coarse_timens"],
  aux: ["aux", "aux_timens"],
  value: ["value", "wasi"],
};

/** The harness's builds (asconfig.stress.json targets), each a line of the bridge's FILES table (src/wasm.ts). */
export type StressBuild = "stress" | "stress-noseqlock" | `stress-noretry-${Loop}`;

export interface PathResult {
  /** Reads made (checked + fallbacks). */
  reads: bigint;
  /** Reads checked against the invariant. */
  checked: bigint;
  torn: bigint;
  /** Reads that took the syscall instead (after a give-up). */
  fallbacks: bigint;
}

export interface StressResult {
  build: StressBuild;
  readers: number;
  paths: Partial<Record<Path, PathResult>>;
  reads: bigint;
  torn: bigint;
  fallbacks: bigint;
  /** Times a reader gave up waiting on one odd seq (the writer paused mid-update for ~1 ms). */
  giveUps: bigint;
  updates: number;
  ms: number;
}

// The invariant (assembly/stress.ts says the same): update v, u = v mod 2^24,
// clock c: sec = u + OFF[c], ns = 1000 * ((u * K[c]) mod 1e5 + (u * J[c]) mod 1e3),
// the second term the counter delta from cycle_last (stored in nsec for the coarse clocks).
const U_MASK = (1 << 24) - 1;
const OFF: Record<number, number> = {
  [CLOCK_REALTIME]: 2 ** 25, [CLOCK_MONOTONIC]: 0, [CLOCK_MONOTONIC_RAW]: 100, [CLOCK_REALTIME_COARSE]: 2 ** 25,
  [CLOCK_MONOTONIC_COARSE]: 0, [CLOCK_BOOTTIME]: 2 ** 24, [CLOCK_TAI]: 2 ** 25 + 37, [CLOCK_AUX]: 5 * 2 ** 22,
};
const K: Record<number, number> = {
  [CLOCK_REALTIME]: 7919, [CLOCK_MONOTONIC]: 104729, [CLOCK_MONOTONIC_RAW]: 1299709, [CLOCK_REALTIME_COARSE]: 15485863,
  [CLOCK_MONOTONIC_COARSE]: 2750159, [CLOCK_BOOTTIME]: 3497861, [CLOCK_TAI]: 5800079, [CLOCK_AUX]: 7368787,
};
/** The namespace offsets (assembly/stress.ts: NS_MONO, NS_BOOT). */
const NS_MONO = { sec: 3000n, nsec: 987_654_321n };
const NS_BOOT = { sec: 7000n, nsec: 123_456_789n };
/**
 * The counter word stays at COUNTER; cycle_last = COUNTER - delta with delta
 * below 2^31, so only cycle_last's low word changes (its high word is 256).
 */
const COUNTER_HI = 256;
const COUNTER_LO = 2 ** 31;
const COUNTER = (BigInt(COUNTER_HI) << 32n) + BigInt(COUNTER_LO);

/**
 * Sets up the page and returns the update function. Every changing field is
 * below 2^32 with a constant high word, so an update stores low words only
 * (plain 32-bit stores, no BigInt): the writer runs at a few updates per microsecond.
 */
function makeWriter(store: DataStore): (v: number) => void {
  const vc0 = clockAt(store.time, CS_HRES_COARSE);
  const vc1 = clockAt(store.time, CS_RAW);
  const aux = auxClockAt(store.time, 0);
  for (const vc of [vc0, vc1, aux]) {
    store.setI32(vc + vdso_clock.clock_mode, vdso_clock_mode.VIRTUAL);
    store.setU64(vc + vdso_clock.max_cycles, 1n << 32n);
    store.setU64(vc + vdso_clock.mask, (1n << 64n) - 1n);
    store.setU32(vc + vdso_clock.mult, 1);
    store.setU32(vc + vdso_clock.shift, 0);
    store.setU64(vc + vdso_clock.cycle_last, COUNTER);
  }
  store.storeU64Atomic(store.arch + vdso_arch_data.counter, COUNTER);
  const u32 = new Uint32Array(store.memory.buffer);
  const bt = (vc: number, idx: number) => (vc + vdso_clock.basetime + idx * vdso_timestamp.SIZE) >>> 2;
  const secAt = (vc: number, idx: number) => bt(vc, idx) + vdso_timestamp.sec / 4;
  const nsecAt = (vc: number, idx: number) => bt(vc, idx) + vdso_timestamp.nsec / 4;
  // [sec word, nsec word, OFF, K] per clock, flat
  const fields = (vc: number, clocks: number[], idx = (c: number) => c) => clocks.flatMap((c) => [secAt(vc, idx(c)), nsecAt(vc, idx(c)), OFF[c], K[c]]);
  const hres = fields(vc0, [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI]);
  const coarse = fields(vc0, [CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE]);
  const raw = fields(vc1, [CLOCK_MONOTONIC_RAW]);
  const auxf = fields(aux, [CLOCK_AUX], () => VDSO_BASE_AUX);
  const last0 = (vc0 + vdso_clock.cycle_last) >>> 2;
  const last1 = (vc1 + vdso_clock.cycle_last) >>> 2;
  const lastAux = (aux + vdso_clock.cycle_last) >>> 2;
  // One entry per clock of clock_data: [sec word, nsec word, OFF, K, coarse (its nsec carries the delta)].
  const clocks = [
    ...[0, 4, 8, 12].map((i) => [...hres.slice(i, i + 4), 0]),
    ...[0, 4].map((i) => [...coarse.slice(i, i + 4), 1]),
    [...raw, 0],
  ];
  const n = clocks.length;
  const put = (c: number[], u: number) => {
    const ns = 1000 * ((u * c[3]) % 100000 + (c[4] ? u % 1000 : 0));
    if (c[4]) {
      // do_coarse loads sec, then nsec
      u32[c[1]] = ns;
      u32[c[0]] = u + c[2];
    } else {
      // do_hres loads cycle_last, nsec, then sec
      u32[c[0]] = u + c[2];
      u32[c[1]] = ns;
    }
  };
  // The order of the stores inside the write window is free; this one makes
  // the negative controls sensitive. A reader that lacks the retry check
  // returns a mix only if the writer's begin and its first store of a field
  // that reader loads both fall within the reader's few nanoseconds between
  // its seq load and its last field load. So each update a different clock
  // (rotating) comes first, right after its own clock_data's seq store, and
  // its fields go in the reverse of the reader's loads; cycle_last last (the
  // reader loads it first). The aux clock, alone under its seq, likewise.
  return (v: number) => {
    const u = v & U_MASK;
    const first = v % n;
    // Both clock_data odd before any field changes (writeBegin), the one holding
    // the first clock last, so that its fields follow its seq store directly.
    if (first === n - 1) writeBegin(store, store.time);
    else (writeBeginClock(store, vc1), writeBeginClock(store, vc0));
    for (let i = first; i < n; i++) put(clocks[i], u);
    for (let i = 0; i < first; i++) put(clocks[i], u);
    u32[last0] = COUNTER_LO - (u % 1000) * 1000;
    u32[last1] = COUNTER_LO - ((u * 3) % 1000) * 1000;
    writeEnd(store, store.time);
    writeBeginClock(store, aux);
    u32[auxf[0]] = u + auxf[2];
    u32[auxf[1]] = 1000 * ((u * auxf[3]) % 100000);
    u32[lastAux] = COUNTER_LO - ((u * 7) % 1000) * 1000;
    writeEndClock(store, aux);
  };
}

// status (BigInt64) per reader: per path [reads, checked, torn, fallbacks], then give-ups; at the end an i32 count of readers ready, an i32 stop flag
const PER_PATH = 4;
const STRIDE = PATHS.length * PER_PATH + 1;

export async function runStress(opts: {
  build?: StressBuild;
  paths?: readonly Path[];
  readers?: number;
  /** Checked reads per path, over all readers. */
  readsPerPath: number;
  maxMs?: number;
  /** Stop once every path asked for has a torn read (a negative control). */
  stopOnTorn?: boolean;
}): Promise<StressResult> {
  const build = opts.build ?? "stress";
  const paths = opts.paths ?? PATHS;
  const readers = opts.readers ?? 4;
  const chunk = opts.stopOnTorn ? 20_000 : 50_000;
  const memory = storeMemory(true);
  const store = new DataStore(memory);
  const update = makeWriter(store);
  let v = 1;
  update(v);
  const ns = createTimeNamespace(store, NS_MONO, NS_BOOT);
  const root: View = { time: store.time, real: NO_PAGE, arch: store.arch };
  const timens: View = { time: ns.page, real: store.time, arch: store.arch };

  const status = new SharedArrayBuffer(readers * STRIDE * 8 + 8);
  const counts = new BigInt64Array(status, 0, readers * STRIDE);
  const stop = new Int32Array(status, status.byteLength - 4, 1);
  const ready = new Int32Array(status, status.byteLength - 8, 1);
  const pathIdx = paths.map((p) => PATHS.indexOf(p));
  const exits: Promise<unknown>[] = [];
  for (let idx = 0; idx < readers; idx++) {
    // Each reader starts on a different path, so that all paths are read at once.
    const mine = pathIdx.map((_, i) => pathIdx[(i + idx) % pathIdx.length]);
    const views = mine.map((p) => (TIMENS_PATHS.includes(PATHS[p]) ? timens : root));
    const data = { memory, build, paths: mine, views, reads: Math.ceil(opts.readsPerPath / readers), chunk, stopOnTorn: !!opts.stopOnTorn, status, idx, readers };
    const w = await spawn(new URL("./reader-worker.ts", import.meta.url), data);
    exits.push(new Promise((resolve, reject) => (w.onMessage(resolve), w.onError(reject))).finally(() => w.terminate()));
  }
  let finished = false;
  Promise.all(exits).then(() => (finished = true), () => (finished = true));

  let t0 = performance.now();
  let started = false;
  const sum = (p: number, k: number) => {
    let s = 0n;
    for (let r = 0; r < readers; r++) s += counts[r * STRIDE + p * PER_PATH + k];
    return s;
  };
  // The writer runs flat out; every 4096 updates it yields once so worker exits are noticed.
  while (!finished) {
    for (let i = 0; i < 4096; i++) update(++v);
    // The clock starts once every reader is reading (a worker takes a while to load).
    if (!started && Atomics.load(ready, 0) === readers) [started, t0] = [true, performance.now()];
    const elapsed = started ? performance.now() - t0 : 0;
    if ((opts.maxMs !== undefined && elapsed > opts.maxMs) || (opts.stopOnTorn && pathIdx.every((p) => sum(p, 2) > 0n))) Atomics.store(stop, 0, 1);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(exits);
  const ms = performance.now() - t0;
  const out: StressResult = { build, readers, paths: {}, reads: 0n, torn: 0n, fallbacks: 0n, giveUps: 0n, updates: v, ms };
  for (const p of pathIdx) {
    const r = { reads: sum(p, 0), checked: sum(p, 1), torn: sum(p, 2), fallbacks: sum(p, 3) };
    out.paths[PATHS[p]] = r;
    out.reads += r.reads;
    out.torn += r.torn;
    out.fallbacks += r.fallbacks;
  }
  for (let r = 0; r < readers; r++) out.giveUps += counts[r * STRIDE + STRIDE - 1];
  return out;
}
