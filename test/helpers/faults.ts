/**
 * Fault injection for the writer of a data store, in one thread: a writer
 * killed at its Nth store (inside an update) or between updates, a writer
 * paused at its Nth store and resumed later, and a seeded run of many deaths
 * with readers reading every clock throughout (test/faults.test.ts asserts on
 * its counts, bench/faults.ts reports its latencies).
 *
// Longer than ~350 lines on purpose: the fault injector and the seeded run
// that drives it share the run's bookkeeping (deaths, readers, bounds).
 */
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME,
  CLOCK_REALTIME_COARSE, CS_HRES_COARSE, CS_RAW, STORE_END, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_time_data,
  writer_state,
} from "../../assembly/layout.ts";
import { archPage, DataStore, storeMemory } from "../../src/datastore.ts";
import { closeAbandoned, STALE_AFTER_MS } from "../../src/kernel/adopt.ts";
import { VirtualClocksource } from "../../src/kernel/clocksource.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_OFFSET, ADJ_SETOFFSET, ADJ_STATUS, STA_PLL } from "../../src/kernel/timex.ts";
import { createReader, type Reader } from "../../src/reader.ts";

/** What a killed writer throws (never seen by a reader). */
export class WriterDeath extends Error {
  constructor() {
    super("injected writer death");
  }
}

/** Every DataStore method that writes memory (bytes() hands out a writable view: counted as a write). */
export const WRITES = ["setU32", "setI32", "setU64", "setU64n", "storeU32Atomic", "storeU64Atomic", "copy", "bytes"] as const;
const ACCESSORS = [...WRITES, "getU32", "getU64", "loadU32Atomic", "loadU64Atomic", "notify"] as const;

type Target = Record<string, (...a: unknown[]) => unknown>;

/**
 * Kills the writer that owns `store` at its `n`th write from now (1-based):
 * that call and every later one throw WriterDeath, as if its thread were
 * terminated there. `hardware` addresses (the virtual counter word) pass:
 * they are the counter, not the writer. `target` defaults to the store; pass
 * DataStore.prototype to kill a kernel that is being created.
 */
export function killAt(store: DataStore | object, n: number, hardware: number[] = []) {
  const t = store as Target;
  let writes = 0;
  let dead = false;
  let diedAt = -1;
  const own = WRITES.map((m) => [m, Object.prototype.hasOwnProperty.call(t, m) ? t[m] : undefined] as const);
  for (const m of WRITES) {
    const orig = t[m];
    t[m] = function (this: unknown, ...a: unknown[]) {
      if (hardware.includes(a[0] as number)) return orig.apply(this, a);
      if (dead || ++writes >= n) {
        if (!dead) diedAt = a[0] as number;
        dead = true;
        throw new WriterDeath();
      }
      return orig.apply(this, a);
    };
  }
  return {
    get dead() {
      return dead;
    },
    get writes() {
      return writes;
    },
    /** The address of the write it died at (-1 while alive). */
    get diedAt() {
      return diedAt;
    },
    /** Puts the original methods back (a prototype patched for one creation). */
    restore() {
      for (const [m, o] of own) {
        if (o === undefined) delete t[m];
        else t[m] = o;
      }
    },
  };
}

/**
 * Pauses the writer that owns `store` at its `n`th write: from there on its
 * writes (and its reads, so it sees its own writes) go to a private copy of
 * the store region; readers see the store exactly as it was at the pause.
 * `resume()` lets it finish: what it wrote appears, and it writes memory
 * directly again. `hardware` addresses pass through as for killAt.
 */
export function pauseAt(store: DataStore, n: number, hardware: number[] = []) {
  const t = store as unknown as Target;
  let writes = 0;
  let copy: DataStore | undefined;
  let base: Uint8Array | undefined;
  const real = new Uint8Array(store.memory.buffer);
  for (const m of ACCESSORS) {
    const orig = t[m];
    t[m] = function (this: unknown, ...a: unknown[]) {
      if (hardware.includes(a[0] as number)) return orig.apply(store, a);
      if (!copy && (WRITES as readonly string[]).includes(m) && ++writes >= n) {
        base = real.slice(0, STORE_END);
        const fake = Object.create(DataStore.prototype) as DataStore;
        (fake as unknown as { memory: { buffer: ArrayBuffer } }).memory = { buffer: base.slice().buffer };
        copy = fake;
      }
      return copy ? ((copy as unknown as Target)[m] as (...x: unknown[]) => unknown).apply(copy, a) : orig.apply(store, a);
    };
  }
  return {
    get paused() {
      return copy !== undefined;
    },
    resume() {
      for (const m of ACCESSORS) delete t[m];
      if (!copy || !base) return;
      const mine = new Uint8Array((copy as unknown as { memory: { buffer: ArrayBuffer } }).memory.buffer);
      for (let i = 0; i < base.length; i++) if (mine[i] !== base[i]) real[i] = mine[i];
      copy = undefined;
    },
  };
}

/**
 * The silence a dead writer leaves, without waiting it out: the store's
 * heartbeat moved back by more than the default adoptAfterMs, as if that long
 * had passed since its writer's last beat. A closed store is left alone (it
 * is adoptable at once, and its carry-forward starts at its heartbeat). Call
 * it right before the adopting create: a Kernel object the test abandoned
 * still has its heartbeat timer (one it killed stops at its first failed beat).
 */
export function silence(memory: WebAssembly.Memory): void {
  const arch = archPage();
  if (Atomics.load(new Int32Array(memory.buffer), (arch + vdso_arch_data.state) >> 2) === writer_state.CLOSED) return;
  const u64 = new BigUint64Array(memory.buffer);
  const at = (arch + vdso_arch_data.heartbeat_ns) >> 3;
  Atomics.store(u64, at, Atomics.load(u64, at) - BigInt(STALE_AFTER_MS + 1) * 1_000_000n);
}

/** A tiny seeded generator (xorshift32). */
export class XorShift {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.x = x >>> 0);
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
}

/** The clocks every round reads. */
export const CLOCKS = [
  CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_AUX,
] as const;
export const CLOCK_NAMES: Record<number, string> = {
  [CLOCK_MONOTONIC]: "MONOTONIC", [CLOCK_BOOTTIME]: "BOOTTIME", [CLOCK_REALTIME]: "REALTIME", [CLOCK_REALTIME_COARSE]: "REALTIME_COARSE",
  [CLOCK_MONOTONIC_COARSE]: "MONOTONIC_COARSE", [CLOCK_MONOTONIC_RAW]: "MONOTONIC_RAW", [CLOCK_AUX]: "AUX0",
};

/** The seq word each clock reads, relative to the time page. */
export const wordOf = (clock: number) =>
  clock === CLOCK_AUX ? vdso_time_data.aux_clock_data : clock === CLOCK_MONOTONIC_RAW ? vdso_time_data.clock_data + CS_RAW * vdso_clock.SIZE : vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE;

/** Readers of the fault run: one reads every clock, the others one seq word each (clock_data[0], [1], aux 0). */
export const READERS = {
  all: [...CLOCKS],
  hres: [CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE],
  raw: [CLOCK_MONOTONIC_RAW],
  aux: [CLOCK_AUX],
} as const;
export type ReaderName = keyof typeof READERS;

export interface Episode {
  death: number;
  /** Where: "inside" an update (a write threw) or "between" updates. */
  kind: "inside" | "between";
  /** The operation it died in (or after). */
  op: string;
  /** It died at the shadow copy's seq begin: the page complete, the shadow one publication behind (see the report). */
  shadowGap: boolean;
  /** The first kernel to adopt the store died at this write of its constructor (a second death in this episode). */
  adopterDiedAt?: number;
  /** The write the writer died at (inside), or the writes it made (between). */
  n: number;
  closed: boolean;
  /** Distinct (word, odd seq) pairs a reader met, per reader, while no live writer held the store. */
  stuck: Record<ReaderName, number>;
  giveUps: Record<ReaderName, number>;
}

export interface FaultRunOptions {
  counter: "virtual" | "host-call";
  /** Random deaths to inject (ignored with `exhaustive`). */
  deaths?: number;
  seed: number;
  /** Time every read (bench): single reads in the live phase (steady) and in the first rounds after each death. */
  timing?: boolean;
  /** Instead of `deaths` random ones: every operation killed at every one of its writes, then after it, each closed and not. */
  exhaustive?: boolean;
  /** Chance a death is inside an adopting kernel's constructor (default 0.05). */
  adoptDeath?: number;
}

export interface FaultRunResult {
  deaths: number;
  episodes: Episode[];
  reads: number;
  /** Negative answers (an errno) to a reader, with where. */
  errors: string[];
  /** Answers below the same reader's previous answer for the same clock. */
  backward: string[];
  /** Those of them in an episode whose writer died at the shadow copy's seq begin (a known gap, counted apart). */
  backwardShadowGap: string[];
  /** Totals (the lists above keep the first ones only). */
  errorCount: number;
  backwardCount: number;
  backwardShadowGapCount: number;
  /** status() answers that did not match the store's state (closed, stuck, running after adoption). */
  statusErrors: string[];
  giveUps: Record<ReaderName, number>;
  waits: Record<ReaderName, number>;
  /** Kernel.create({ adopt: true }) times, ns. */
  adoptNs: number[];
  /** First and last answer of reader `all` per clock. */
  first: Map<number, bigint>;
  last: Map<number, bigint>;
  /** The counter that passed between those (virtual: exact; host: [min, max] of the bracketing host reads). */
  elapsedMin: bigint;
  elapsedMax: bigint;
  /** BOOTTIME - MONOTONIC and REALTIME - MONOTONIC moves: the ones certainly made, and those made by a call the writer died in. */
  bootSure: bigint;
  bootMaybe: bigint;
  realSure: bigint;
  realMaybe: bigint;
  auxStepSure: bigint;
  auxStepMaybe: bigint;
  /** ns per read (timing only). */
  latSteady: number[];
  latAfter: number[];
  readers: Record<ReaderName, Reader>;
  memory: WebAssembly.Memory;
  kernel: Kernel;
}

const ms = 1_000_000n;

/** What a life does between deaths. */
export const OPS = ["tick", "freq", "slew", "suspend", "setoffset", "aux-freq", "aux-setoffset"] as const;
/** The random mix: mostly ticks. */
const pickOp = (p: number) => (p < 55 ? 0 : p < 65 ? 1 : p < 70 ? 2 : p < 78 ? 3 : p < 84 ? 4 : p < 92 ? 5 : 6);

/**
 * Runs `deaths` writer deaths on one store. Each life: an armed kill (the Nth
 * write, N random) or none, then 1..4 operations (tick, adjtimex frequency,
 * slew or step, suspend, aux frequency or step), a read round after each;
 * a writer that lived through them dies between updates. Then 0..3 rounds
 * with the store abandoned (the counter moving), sometimes
 * closeAbandoned (sometimes twice), 0..2 more rounds, and a new kernel adopts
 * (sometimes dying in its constructor first).
 */
export async function faultRun(o: FaultRunOptions): Promise<FaultRunResult> {
  const rng = new XorShift(o.seed);
  const memory = storeMemory(true);
  const virtual = o.counter === "virtual";
  const host = process.hrtime.bigint;
  const counterAt = archPage() + vdso_arch_data.counter;
  const hardware = virtual ? [counterAt] : [];
  let k = await Kernel.create({ memory, counter: o.counter, realtime: { sec: 1_700_000_000n, nsec: 0n } });
  if (k.store.arch + vdso_arch_data.counter !== counterAt) throw new Error(`counter word at ${k.store.arch + vdso_arch_data.counter}, not ${counterAt}`);
  k.auxClockEnable(0, true);
  const time = k.store.time;
  const u32 = new Uint32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  const u64 = new BigUint64Array(memory.buffer);
  let virtualNs = 0n; // counter moves the run made
  const advance = (ns: bigint) => {
    if (!virtual || ns === 0n) return;
    Atomics.store(u64, counterAt >> 3, Atomics.load(u64, counterAt >> 3) + ns); // the hardware counter, with or without a writer
    if (k && !dead) (k.cs as VirtualClocksource).counter += ns;
    virtualNs += ns;
  };
  let dead = false;
  const names = Object.keys(READERS) as ReaderName[];
  const readers = {} as Record<ReaderName, Reader>;
  for (const n of names) readers[n] = await createReader({ memory, view: k.rootView() });
  const prev = new Map<string, bigint>();
  const res: FaultRunResult = {
    deaths: 0, episodes: [], reads: 0, errors: [], backward: [], backwardShadowGap: [], statusErrors: [], errorCount: 0, backwardCount: 0, backwardShadowGapCount: 0, giveUps: {} as never, waits: {} as never, adoptNs: [],
    first: new Map(), last: new Map(), elapsedMin: 0n, elapsedMax: 0n, bootSure: 0n, bootMaybe: 0n, realSure: 0n, realMaybe: 0n,
    auxStepSure: 0n, auxStepMaybe: 0n, latSteady: [], latAfter: [], readers, memory, kernel: k,
  };
  let t0lo = 0n;
  let t0hi = 0n;
  let tNlo = 0n;
  let tNhi = 0n;
  let where = "start";
  let shadowGap = false;
  /**
   * The gap this suite found first (the writer died after a page block was
   * complete but before its shadow copy, and the fallback used the older
   * shadow) is closed: the fallback takes the newest whole copy of each block.
   * Any backward read now counts as one.
   */
  const pageAheadOfShadow = () => false;
  /** One round: every reader reads each of its clocks once. `lat`: where to put single-read times. */
  const round = (lat?: number[]) => {
    const before = host();
    for (const n of names) {
      const r = readers[n];
      for (const c of READERS[n]) {
        let v: bigint;
        if (lat) {
          const a = host();
          v = r.nowNs(c);
          lat.push(Number(host() - a));
        } else v = r.nowNs(c);
        res.reads++;
        if (v < 0n) {
          res.errorCount++;
          if (res.errors.length < 20) res.errors.push(`${n} ${CLOCK_NAMES[c]} = ${v} (${where})`);
          continue;
        }
        const key = `${n}/${c}`;
        const p = prev.get(key);
        if (p !== undefined && v < p) {
          const list = shadowGap ? res.backwardShadowGap : res.backward;
          if (shadowGap) res.backwardShadowGapCount++;
          else res.backwardCount++;
          if (list.length < 50) list.push(`${n} ${CLOCK_NAMES[c]}: ${v} < ${p} by ${p - v} ns (${where})`);
        }
        prev.set(key, v);
        if (n === "all") {
          if (!res.first.has(c)) res.first.set(c, v);
          res.last.set(c, v);
        }
      }
    }
    const after = host();
    if (t0hi === 0n) [t0lo, t0hi] = [before, after];
    [tNlo, tNhi] = [before, after];
  };
  /** (word, seq) pairs each reader would find odd (not closed) now. */
  const stuckNow = (into: Record<ReaderName, Set<string>>) => {
    for (const n of names) {
      for (const c of READERS[n]) {
        const w = time + wordOf(c);
        const s = Atomics.load(u32, w >> 2);
        if (s & 1 && Atomics.load(i32, (w + vdso_clock.clock_mode) >> 2) !== vdso_clock_mode.TIMENS) into[n].add(`${w}:${s}`);
      }
    }
  };
  const counts = () => Object.fromEntries(names.map((n) => [n, readers[n].status().giveUps])) as Record<ReaderName, number>;
  // A virtual store whose writer closed is carried forward with the host's clock
  // from its last heartbeat until a kernel adopts it (goneFor): that time is an
  // upper bound's allowance, on top of the virtual time.
  let carried = 0n;
  const adopt = async () => {
    const a = host();
    if (virtual && Atomics.load(i32, (archPage() + vdso_arch_data.state) >> 2) === writer_state.CLOSED) {
      carried += a - Atomics.load(new BigUint64Array(memory.buffer), (archPage() + vdso_arch_data.heartbeat_ns) >> 3) + 10_000_000n;
    }
    silence(memory);
    k = await Kernel.create({ memory, counter: o.counter, adopt: true });
    res.adoptNs.push(Number(host() - a));
    dead = false;
  };

  /** Operation `op` (OPS) on the live kernel, with its step recorded as sure or, if the writer died in it, maybe. */
  const doOp = (op: number) => {
    let step: "boot" | "real" | "aux" | undefined;
    let amount = 0n;
    const freq = () => BigInt(rng.int(-500, 500)) << 16n;
    try {
      switch (OPS[op]) {
        case "tick":
          k.tick();
          break;
        case "freq":
          k.adjtimex({ modes: ADJ_FREQUENCY, freq: freq() });
          break;
        case "slew":
          k.adjtimex({ modes: ADJ_OFFSET | ADJ_STATUS | ADJ_NANO, status: STA_PLL, offset: BigInt(rng.int(-400_000, 400_000)) });
          break;
        case "suspend":
          step = "boot";
          amount = BigInt(rng.int(1, 50)) * ms;
          if (k.suspend(amount) !== 0) throw new Error("suspend refused");
          break;
        case "setoffset":
          step = "real";
          amount = BigInt(rng.int(1, 999)) * 1000n;
          if (k.adjtimex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: amount } }) < 0) throw new Error("setoffset refused");
          break;
        case "aux-freq":
          k.clockAdjtime(CLOCK_AUX, { modes: ADJ_FREQUENCY, freq: freq() });
          break;
        case "aux-setoffset":
          step = "aux";
          amount = BigInt(rng.int(1, 999)) * 1000n;
          if (k.clockAdjtime(CLOCK_AUX, { modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: amount } }) < 0) throw new Error("aux setoffset refused");
          break;
      }
      if (step === "boot") res.bootSure += amount;
      if (step === "boot" || step === "real") res.realSure += amount;
      if (step === "aux") res.auxStepSure += amount;
    } catch (e) {
      if (!(e instanceof WriterDeath)) throw e;
      shadowGap = pageAheadOfShadow();
      if (step === "boot") res.bootMaybe += amount;
      if (step === "boot" || step === "real") res.realMaybe += amount;
      if (step === "aux") res.auxStepMaybe += amount;
    }
  };
  const statusIs = (writer: string, degraded: boolean, only?: ReaderName[]) => {
    for (const x of only ?? names) {
      const st = readers[x].status();
      if ((st.writer !== writer || st.degraded !== degraded) && res.statusErrors.length < 20) {
        res.statusErrors.push(`${x}: ${st.writer}/${st.degraded}, expected ${writer}/${degraded} (${where})`);
      }
    }
  };

  // Exhaustive plan: every op, killed at write 1, 2, ... until it completes (a death between updates), each closed and not.
  let planOp = 0;
  let planN = 1;
  let planClosed = false;
  round();
  for (let d = 0; o.exhaustive ? planOp < OPS.length : d < (o.deaths ?? 200); d++) {
    where = `life ${d}`;
    shadowGap = false;
    const g0 = counts();
    const stuck = Object.fromEntries(names.map((x) => [x, new Set<string>()])) as Record<ReaderName, Set<string>>;
    const armed = o.exhaustive || rng.chance(0.75);
    const n = o.exhaustive ? planN : rng.int(1, 48);
    const ops = o.exhaustive ? 1 : rng.int(1, 4);
    // Exhaustive: one tick first (so every op finds time to accumulate), then the op killed at write n.
    if (o.exhaustive) {
      advance(5n * ms);
      k.tick();
      round();
    }
    const kill = armed ? killAt(k.store, n, hardware) : undefined;
    let lastOp = -1;
    for (let i = 0; i < ops && !kill?.dead; i++) {
      advance(o.exhaustive ? 5n * ms : BigInt(rng.int(0, 9)) * ms + BigInt(rng.int(0, 999_999)));
      if (!virtual && (o.exhaustive || rng.chance(0.6))) {
        // A tick that accumulates (and so publishes): wait out one tick interval of the host counter.
        const due = k.core.mono.cycleLast + 4_100_000n;
        while (host() < due);
      }
      const op = o.exhaustive ? planOp : pickOp(rng.int(0, 99));
      lastOp = op;
      doOp(op);
      where = `life ${d}, after ${OPS[op]}${kill?.dead ? `, writer died at write ${n}` : ""}`;
      stuckNow(stuck);
      round(o.timing ? (kill?.dead ? res.latAfter : res.latSteady) : undefined);
    }
    // The writer is dead: killed inside an update, or now, between updates.
    dead = true;
    res.deaths++;
    const kind = kill?.dead ? "inside" : "between";
    const closed = o.exhaustive ? planClosed : rng.chance(0.5);
    if (o.exhaustive) {
      if (planClosed) {
        planClosed = false;
        if (kind === "between") {
          planOp++;
          planN = 1;
        } else planN++;
      } else planClosed = true;
    }
    const lat = o.timing ? res.latAfter : undefined;
    const dwell = () => {
      advance(o.exhaustive ? 7n * ms : BigInt(rng.int(0, 20)) * ms);
      stuckNow(stuck);
      round(lat);
      // A one-word reader that just read its word odd (and not closed) says it is stuck.
      if (Atomics.load(i32, (archPage() + vdso_arch_data.state) >> 2) !== writer_state.CLOSED) {
        for (const x of ["hres", "raw", "aux"] as const) {
          const w = time + wordOf(READERS[x][0]);
          if (Atomics.load(u32, w >> 2) & 1 && Atomics.load(i32, (w + vdso_clock.clock_mode) >> 2) !== vdso_clock_mode.TIMENS) statusIs("stuck", true, [x]);
        }
      }
    };
    where = `death ${d} (${kind} in ${OPS[lastOp] ?? "-"} at ${n}), abandoned`;
    for (let i = o.exhaustive ? 2 : rng.int(0, 3); i > 0; i--) dwell();
    if (closed) {
      closeAbandoned(memory);
      if (o.exhaustive || rng.chance(0.3)) closeAbandoned(memory); // twice: a no-op
      where = `death ${d} (${kind} in ${OPS[lastOp] ?? "-"} at ${n}), closed`;
      statusIs("closed", true);
      for (let i = o.exhaustive ? 1 : rng.int(0, 2); i > 0; i--) dwell();
      statusIs("closed", true);
    }
    res.episodes.push({ death: d, kind, op: OPS[lastOp] ?? "-", n, closed, shadowGap, stuck: {} as never, giveUps: {} as never });
    if (!o.exhaustive && rng.chance(o.adoptDeath ?? 0.05)) {
      // The adopting kernel dies in its constructor.
      const m = rng.int(1, 80);
      const kp = killAt(DataStore.prototype, m, hardware);
      try {
        await adopt();
        kp.restore();
        k.close(); // it lived: close it, and adopt again below
        dead = true;
      } catch (e) {
        kp.restore();
        if (!(e instanceof WriterDeath)) throw e;
        if (pageAheadOfShadow()) shadowGap = res.episodes[res.episodes.length - 1].shadowGap = true;
        res.deaths++;
        res.episodes[res.episodes.length - 1].adopterDiedAt = m;
      }
      where = `death ${d}, adopter died at ${m}`;
      dwell();
    }
    where = `death ${d} (${kind} in ${OPS[lastOp] ?? "-"} at ${n}), adopting`;
    await adopt();
    where = `death ${d} (${kind} in ${OPS[lastOp] ?? "-"} at ${n}), adopted`;
    stuckNow(stuck);
    round(lat);
    statusIs("running", false);
    const g1 = counts();
    const ep = res.episodes[res.episodes.length - 1];
    ep.stuck = Object.fromEntries(names.map((x) => [x, stuck[x].size])) as Record<ReaderName, number>;
    ep.giveUps = Object.fromEntries(names.map((x) => [x, g1[x] - g0[x]])) as Record<ReaderName, number>;
  }
  round();
  res.elapsedMin = virtual ? virtualNs : tNlo - t0hi;
  res.elapsedMax = virtual ? virtualNs + carried : tNhi - t0lo;
  for (const n of names) {
    const s = readers[n].status();
    res.giveUps[n] = s.giveUps;
    res.waits[n] = s.waits;
  }
  res.kernel = k;
  return res;
}

/** Percentile of sorted numbers. */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
