/**
 * Snapshot replay: a snapshot's pages go into the wasm store, and the wasm
 * reader, bound to them like a task of the snapshot's kernel, answers every
 * clock at the snapshot's counter (or at any counter asked for).
 */
import {
  CLOCK_AUX,
  CLOCK_AUX_LAST,
  EINVAL,
  NO_PAGE,
  STORE_START,
  vdso_pages,
} from "../assembly/layout.ts";
import { SNAPSHOT_FLAG_TIMENS, type Snapshot } from "./snapshot.ts";
import { PageSyscalls } from "./pagesyscalls.ts";
import { storeMemory, type View } from "./datastore.ts";
import { type Timespec, tsCompare } from "./time.ts";
import { Vdso, type Build } from "./wasm.ts";

const PAGE = vdso_pages.PAGE_SIZE;
/** Where the replayed `[vvar]` and `[vvar_vclock]` pages go in the store. */
const VVAR_AT = STORE_START;
const VCLOCK_AT = STORE_START + vdso_pages.VDSO_NR_PAGES * PAGE;

/** One clock as the CLI prints it. */
export type ClockAnswer = { id: number; sec: bigint; nsec: bigint } | { id: number; fallback: true; ret: number };

/** A wasm vDSO holding one snapshot at a time. */
export class Replay {
  private snapshot?: Snapshot;
  counter = 0n;
  readonly #vdso: Vdso;
  private constructor(vdso: Vdso, readonly sys: PageSyscalls) {
    this.#vdso = vdso;
  }

  static async create(build: Build = "release"): Promise<Replay> {
    let self: Replay | undefined;
    const memory = storeMemory();
    const sys = new PageSyscalls(memory, { time: VVAR_AT }, () => self!.counter);
    const vdso = await Vdso.create({ memory, counter: () => self!.counter, syscalls: sys, build });
    self = new Replay(vdso, sys);
    return self;
  }

  /** Loads a snapshot's pages and binds the reader the way the kernel mapped them. */
  load(s: Snapshot): View {
    const store = new Uint8Array(this.#vdso.memory.buffer, VVAR_AT, (vdso_pages.VDSO_NR_PAGES + vdso_pages.VDSO_NR_VCLOCK_PAGES) * PAGE);
    store.fill(0);
    new Uint8Array(this.#vdso.memory.buffer).set(s.vvarPages, VVAR_AT);
    new Uint8Array(this.#vdso.memory.buffer).set(s.vclockPages, VCLOCK_AT);
    // Unreadable pages were SIGBUS in the task: the view leaves them out.
    const page = (mask: number, i: number, base: number, n: number) =>
      i < n && mask & (1 << i) ? base + i * PAGE : NO_PAGE;
    const view: View = {
      time: VVAR_AT,
      real: s.flags & SNAPSHOT_FLAG_TIMENS ? page(s.vvarValidMask, 1, VVAR_AT, s.nVvarPages) : NO_PAGE,
      rng: page(s.vvarValidMask, 2, VVAR_AT, s.nVvarPages),
      arch: page(s.vvarValidMask, 3, VVAR_AT, s.nVvarPages),
      pvclock: page(s.vclockValidMask, 0, VCLOCK_AT, s.nVclockPages),
      hvclock: page(s.vclockValidMask, 1, VCLOCK_AT, s.nVclockPages),
    };
    this.#vdso.bind(view);
    this.sys.view = view;
    this.snapshot = s;
    this.counter = s.tsc;
    return view;
  }

  /** clock_getres, gettimeofday and time() of the wasm reader on the loaded snapshot. */
  clockGetres(id: number) {
    return this.#vdso.clockGetres(id);
  }
  gettimeofday() {
    return this.#vdso.gettimeofday();
  }
  time(): bigint {
    return this.#vdso.time();
  }

  /** One clock, asked of the wasm reader. */
  clock(id: number): ClockAnswer {
    const before = this.sys.fallbacks.length;
    const r = this.#vdso.clockGettime(id);
    if (this.sys.fallbacks.length !== before || r.ret !== 0) return { id, fallback: true, ret: r.ret };
    const ts = r.ts as Timespec;
    return { id, sec: ts.sec, nsec: ts.nsec };
  }

  /** Every clock id 0..23 at `counter` (default: the snapshot's TSC). */
  clocks(counter?: bigint): ClockAnswer[] {
    if (counter !== undefined) this.counter = counter;
    else if (this.snapshot) this.counter = this.snapshot.tsc;
    const out: ClockAnswer[] = [];
    for (let id = 0; id <= CLOCK_AUX_LAST; id++) out.push(this.clock(id));
    return out;
  }
}

const CLOCK_NAMES = [
  "REALTIME", "MONOTONIC", "PROCESS_CPUTIME_ID", "THREAD_CPUTIME_ID", "MONOTONIC_RAW",
  "REALTIME_COARSE", "MONOTONIC_COARSE", "BOOTTIME", "REALTIME_ALARM", "BOOTTIME_ALARM",
  "SGI_CYCLE", "TAI",
];

export function clockName(id: number): string {
  if (id >= CLOCK_AUX && id <= CLOCK_AUX_LAST) return `AUX+${id - CLOCK_AUX}`;
  return CLOCK_NAMES[id] ?? `clock ${id}`;
}

/** One snapshot record checked against the wasm reader. */
export interface RecordCheck {
  clockId: number;
  answer: ClockAnswer;
  expected: { sec: bigint; nsec: bigint };
  before: { sec: bigint; nsec: bigint };
  after: { sec: bigint; nsec: bigint };
  /** equal to the recorded computed value (when the record has one) */
  exact: boolean;
  /** before <= ours <= after */
  inRange: boolean;
}


/** Checks every record of `s` against `answers` (from `Replay.clocks()` at the stored TSC). */
export function checkRecords(s: Snapshot, answers: ClockAnswer[]): RecordCheck[] {
  return s.records.map((rec) => {
    const answer = answers.find((a) => a.id === rec.clockId) ?? { id: rec.clockId, fallback: true as const, ret: -EINVAL };
    const ours = "sec" in answer ? { sec: answer.sec, nsec: answer.nsec } : undefined;
    const hasComputed = (rec.flags & 4) !== 0;
    const exact = ours !== undefined && (!hasComputed || tsCompare(ours, rec.computed) === 0);
    const inRange = ours !== undefined && tsCompare(rec.before, ours) <= 0 && tsCompare(ours, rec.after) <= 0;
    return { clockId: rec.clockId, answer, expected: rec.computed, before: rec.before, after: rec.after, exact, inRange };
  });
}
