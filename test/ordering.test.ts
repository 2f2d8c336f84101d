// Memory order over the compiled modules (issue 21): every build that reads the
// store (release and release-shared, embedded; debug, shipped in dist/build;
// testing, inline and stress, which the tests and the bench run; the guest and
// bench builds read no store) and a program built with the AssemblyScript
// library, run instrumented (test/helpers/ordering.ts) through every read path
// on stores a real Kernel writes (pvclock and Hyper-V pages by hand), with a
// scripted writer that makes reads retry and wait. Between a load of a seq
// word that finds it even and the next load of it, every load of the block it
// guards must be atomic. The negative control: build/testing-plain.wasm
// (`--use VDSO_PLAIN_DATA=1`, plain data loads) must fail on every path.
// ORDERING_BUILD=<dir> runs the module checks on the builds in <dir> instead.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
  CLOCK_REALTIME_COARSE, CLOCK_TAI, PVCLOCK_TSC_STABLE_BIT, ms_hyperv_tsc_page as hv, pvclock_vcpu_time_info as pv, reader_slot,
  vdso_clock, vdso_clock_mode,
} from "../assembly/layout.ts";
import { storeMemory, type View } from "../src/datastore.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { CLOCK_BLOCKS } from "../src/kernel/vsyscall.ts";
import { lastConsistent } from "../src/pageclock.ts";
import { kernelSyscalls } from "../src/reader.ts";
import { claimSlot, slotAddr, vdsoImports, type VdsoHost } from "../src/wasm.ts";
import { instrument, judge, type Pages, storeWords, Tracer, type Words } from "./helpers/ordering.ts";
import { ARCH_PAGE, auxAt, clockAt, PVCLOCK_PAGE, RecordingSyscalls, RNG_PAGE, TIME_PAGE, writeClock } from "./helpers/pages.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILD = process.env.ORDERING_BUILD ?? join(ROOT, "build");
const HV_PAGE = PVCLOCK_PAGE + 4096;

type Kind = "vdso" | "inline" | "stress" | "lib";
type Fn = (...a: (number | bigint)[]) => number | bigint;
type Exports = Record<string, Fn> & { BUF?: WebAssembly.Global };

/** A call, and the read path (family) it takes. */
interface Call {
  family: string;
  run: () => unknown;
}

const HRES = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI];
const COARSE = [CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE];
const AUX = [CLOCK_AUX, CLOCK_AUX + 1]; // enabled, disabled
const family = (clock: number, ns: boolean) =>
  (HRES.includes(clock) ? "hres" : clock === CLOCK_MONOTONIC_RAW ? "raw" : COARSE.includes(clock) ? "coarse" : clock >= CLOCK_AUX ? "aux" : "syscall") + (ns ? "-timens" : "");
const CLOCKS = [...HRES, CLOCK_MONOTONIC_RAW, ...COARSE, ...AUX, CLOCK_PROCESS_CPUTIME_ID];

/** Every entry point of a module of `kind` that reads the store, one call each, for a reader at `slot` (`ns`: bound to a namespace page). */
function calls(kind: Kind, e: Exports, slot: number, ns: boolean, reseed: () => void): Call[] {
  const out: Call[] = [];
  const add = (f: string, run: () => unknown) => out.push({ family: f, run });
  const s = ns ? "-timens" : "";
  if (kind === "vdso") {
    for (const c of CLOCKS) {
      add(family(c, ns), () => e.clock_gettime(c, slot));
      add(`value${s}`, () => e.clock_gettime_ns(c));
      add(`value${s}`, () => e.clock_gettime_f64(c));
      add(`getres${s}`, () => e.clock_getres(c, slot));
    }
    add(`gettimeofday${s}`, () => e.gettimeofday(slot, slot + 16));
    add("time", () => e.time(0));
    for (const id of [0, 1]) {
      for (const precision of [0n, 10_000_000n]) {
        add(`wasi${s}`, () => e.wasi_clock_time_get(id, precision, slot + 32));
        add(`wasi${s}`, () => e.wasi_time_ns(id, precision));
      }
      add(`getres${s}`, () => e.wasi_clock_res_get(id, slot + 32));
    }
    add("getrandom", () => e.wasi_random_get(slot + reader_slot.chunk, 64));
    add("getrandom", () => (reseed(), e.wasi_random_get(slot + reader_slot.chunk, 64)));
  } else if (kind === "inline") {
    for (const c of CLOCKS) {
      add(family(c, ns), () => e.inline_loop(c, 2));
      add(family(c, ns), () => e.called_loop(c, 2));
    }
    if (!ns) add("floor", () => e.bare_loop(2));
  } else if (kind === "stress") {
    // One read a call (n = 1): paths 7..9 read through a namespace page.
    for (let path = 0; path < 10; path++) if ((path >= 7) === ns) add(`stress-${path}`, () => e.check_reads(path, 1));
  } else {
    const buf = e.BUF!.value as number;
    for (const c of CLOCKS) {
      add(family(c, ns), () => e.gettime(c, buf));
      add(`value${s}`, () => e.now(c));
    }
    add("time", () => e.seconds());
    add("getrandom", () => e.random(buf, 64));
    add("getrandom", () => (reseed(), e.random(buf, 64)));
  }
  return out;
}

/** The scripted writer: before the n-th load (per call) of a real seq word. */
const SCRIPTS: Record<string, (u32: Uint32Array, at: number, n: number) => void> = {
  quiet: () => {},
  // A whole update between the read's seq loads: the re-read differs, the read starts again.
  retry: (u32, at, n) => {
    if (n === 2) u32[at >> 2] += 2;
  },
  // Mid-update at the first look, done at the fourth: the read waits.
  odd: (u32, at, n) => {
    if (n === 1 || n === 4) u32[at >> 2] += 1;
  },
};

/** Per family: windows seen, loads of single words seen, rule breaks. */
type Report = Map<string, { windows: number; singles: number; violations: Set<string> }>;

/** A store to read: its memory and pages, the reader's views of it (root first), its host, and how time moves. */
interface Store {
  memory: WebAssembly.Memory;
  host: VdsoHost;
  views: { view: View; ns: boolean }[];
  pages: Pages;
  /** The seq words the scripted writer moves (the real page's, pvclock's, Hyper-V's). */
  real: number[];
  reseed: () => void;
  /** Each phase sets the store up, then every call runs under every script. */
  phases: (() => void)[];
}

/** Runs every call of a module on `s`, under every script, into `report` (families prefixed with `prefix`). */
async function runStore(ins: ReturnType<typeof instrument>, kind: Kind, s: Store, report: Report, prefix = "") {
  const { memory } = s;
  const tracer = new Tracer(ins.ops);
  const imports = vdsoImports(memory, () => s.host);
  if (memory.buffer.byteLength < ins.pages * 65536) memory.grow(ins.pages - memory.buffer.byteLength / 65536);
  const module = new WebAssembly.Module(ins.wasm);
  const inst = await WebAssembly.instantiate(module, { ...imports, env: { ...imports.env, ...tracer.hooks(module, imports.env) } });
  const e = inst.exports as unknown as Exports;
  const slot = slotAddr(claimSlot(memory));
  expect(e.set_slot(slot)).toBe(0);
  const words: Words = storeWords(s.pages);
  const u32 = () => new Uint32Array(memory.buffer);
  tracer.watched = new Set(s.real);
  const p = (a: number | undefined) => a ?? -1;
  for (const phase of s.phases) {
    phase();
    for (const { view, ns } of s.views) {
      expect(e.bind(view.time, p(view.real), p(view.rng), p(view.arch), p(view.pvclock), p(view.hvclock))).toBe(0);
      for (const [script, step] of Object.entries(SCRIPTS)) {
        tracer.before = (at, n) => step(u32(), at, n);
        for (const c of calls(kind, e, slot, ns, s.reseed)) {
          tracer.reset();
          c.run();
          for (const at of s.real) if (u32()[at >> 2] & 1) u32()[at >> 2] += 1; // the writer finishes
          const v = judge(tracer.loads, words);
          const r = report.get(prefix + c.family) ?? { windows: 0, singles: 0, violations: new Set<string>() };
          r.windows += v.windows;
          r.singles += tracer.loads.filter((l) => words.single.has(l.at)).length;
          for (const x of v.violations) r.violations.add(`${x} (${script})`);
          report.set(prefix + c.family, r);
        }
      }
    }
  }
  // The scripted writer made readers wait (the slot counts each wait for an even seq).
  expect(u32()[(slot + reader_slot.waits) >> 2]).toBeGreaterThan(0);
}

/** A Kernel's store (`counter`: its counter mode), with aux clock 0 enabled and a time namespace. */
async function kernelStore(shared: boolean, counter: "virtual" | "host-call"): Promise<Store & { close(): void }> {
  const memory = storeMemory(shared);
  const cs = counter === "virtual" ? new VirtualClocksource(1_000_000_000) : undefined;
  const k = await Kernel.create({ memory, ...(cs ? { clocksource: cs } : { counter }), realtime: { sec: 1_700_000_000n, nsec: 0n } });
  expect(k.auxClockEnable(0, true)).toBe(0);
  const ns = k.createTimeNamespace({ monotonic: { sec: 3000n, nsec: 987_654_321n }, boottime: { sec: 7000n, nsec: 0n } });
  if (typeof ns === "number") throw new Error(`createTimeNamespace: ${ns}`);
  const root = k.rootView();
  return {
    memory,
    host: { counter: k.cs.read.bind(k.cs), syscalls: kernelSyscalls(k, null), hostRandomCalls: 0 },
    views: [{ view: root, ns: false }, { view: ns.view, ns: true }],
    pages: { time: root.time, ns: [ns.page], rng: root.rng, arch: root.arch },
    real: [...storeWords({ time: root.time }).seq.keys()],
    reseed: () => k.rng.reseed(),
    // After a tick the fast pass reads; 0.999 s later its nanoseconds carry and the full read answers.
    phases: cs ? [() => (cs.advanceNs(5_000_000_000), k.tick()), () => cs.advanceNs(999_999_000)] : [() => k.tick()],
    close: () => k.close(),
  };
}

/** Hand-written pages: hres and raw clocks of `mode` (PVCLOCK or HVCLOCK), both vclock pages valid. */
function vclockStore(shared: boolean, mode: number): Store {
  const memory = storeMemory(shared);
  writePvHv(memory, mode);
  let tsc = 10_000n;
  return {
    memory,
    host: { counter: () => (tsc += 777n), syscalls: new RecordingSyscalls(), hostRandomCalls: 0 },
    views: [{ view: { time: TIME_PAGE, rng: RNG_PAGE, arch: ARCH_PAGE, pvclock: PVCLOCK_PAGE, hvclock: HV_PAGE }, ns: false }],
    pages: { time: TIME_PAGE, pvclock: PVCLOCK_PAGE, hvclock: HV_PAGE },
    real: [clockAt(TIME_PAGE, 0), clockAt(TIME_PAGE, 1), PVCLOCK_PAGE + pv.version, HV_PAGE + hv.tsc_sequence],
    reseed: () => {},
    phases: [() => {}],
  };
}

/** The whole run for one module: a virtual-counter kernel, a host-call kernel, and pvclock and Hyper-V pages. */
async function check(wasm: Uint8Array, kind: Kind): Promise<Report> {
  const ins = instrument(wasm);
  const report: Report = new Map();
  for (const counter of ["virtual", "host-call"] as const) {
    const s = await kernelStore(ins.shared, counter);
    await runStore(ins, kind, s, report);
    s.close();
  }
  if (kind === "vdso" || kind === "lib") {
    await runStore(ins, kind, vclockStore(ins.shared, vdso_clock_mode.PVCLOCK), report, "pvclock-");
    await runStore(ins, kind, vclockStore(ins.shared, vdso_clock_mode.HVCLOCK), report, "hvclock-");
  }
  return report;
}

/** A time page whose hres and raw clocks read `mode`'s page, and both pages valid. */
function writePvHv(memory: WebAssembly.Memory, mode: number): void {
  for (let cs = 0; cs < 2; cs++) {
    writeClock(memory, clockAt(TIME_PAGE, cs), {
      mode, cycle_last: 1000n, max_cycles: 1n << 40n, mult: 1 << 24, shift: 24,
      base: { [CLOCK_REALTIME]: [1_700_000_000n, 0n], [CLOCK_MONOTONIC]: [500n, 0n], [CLOCK_MONOTONIC_RAW]: [400n, 0n], [CLOCK_BOOTTIME]: [600n, 0n], [CLOCK_TAI]: [1_700_000_037n, 0n] },
    });
  }
  writeClock(memory, auxAt(TIME_PAGE, 0), { mode: vdso_clock_mode.NONE });
  const d = new DataView(memory.buffer);
  d.setUint32(PVCLOCK_PAGE + pv.version, 4, true);
  d.setBigUint64(PVCLOCK_PAGE + pv.tsc_timestamp, 10_000n, true);
  d.setBigUint64(PVCLOCK_PAGE + pv.system_time, 1000n, true);
  d.setUint32(PVCLOCK_PAGE + pv.tsc_to_system_mul, 0x80000000, true);
  d.setInt8(PVCLOCK_PAGE + pv.tsc_shift, 1);
  d.setUint8(PVCLOCK_PAGE + pv.flags, PVCLOCK_TSC_STABLE_BIT);
  d.setUint32(HV_PAGE + hv.tsc_sequence, 3, true);
  d.setBigUint64(HV_PAGE + hv.tsc_scale, 1n << 63n, true);
  d.setBigInt64(HV_PAGE + hv.tsc_offset, 100n, true);
}

const violations = (r: Report) => [...r].flatMap(([f, v]) => [...v.violations].map((x) => `${f}: ${x}`));

/** Families whose reads go through a seq window, by kind (every one must show windows). */
const WINDOWED: Record<Kind, string[]> = {
  vdso: ["hres", "raw", "coarse", "aux", "hres-timens", "raw-timens", "coarse-timens", "aux-timens", "value", "value-timens", "wasi", "wasi-timens", "gettimeofday", "gettimeofday-timens", "pvclock-hres", "pvclock-raw", "pvclock-value", "hvclock-hres", "hvclock-raw", "hvclock-value"],
  inline: ["hres", "raw", "coarse", "aux", "hres-timens", "raw-timens", "coarse-timens", "aux-timens", "floor"],
  stress: Array.from({ length: 10 }, (_, i) => `stress-${i}`),
  lib: ["hres", "raw", "coarse", "aux", "hres-timens", "raw-timens", "coarse-timens", "aux-timens", "value", "value-timens", "pvclock-hres", "pvclock-raw", "pvclock-value", "hvclock-hres", "hvclock-raw", "hvclock-value"],
};

function expectCovered(r: Report, kind: Kind): void {
  const thin = WINDOWED[kind].filter((f) => !(r.get(f)?.windows ?? 0));
  expect(thin, "read paths with no seq window seen").toEqual([]);
  if (kind === "vdso" || kind === "lib") for (const f of ["getrandom", "time"]) expect(r.get(f)?.singles ?? 0, f).toBeGreaterThan(0);
}

const BUILDS: [string, Kind][] = [
  ["release", "vdso"], ["release-shared", "vdso"], ["debug", "vdso"], ["testing", "vdso"], ["testing-shared", "vdso"], ["inline", "inline"], ["stress", "stress"],
];

describe("memory order of the compiled modules: data loads before the seq re-read", () => {
  for (const [name, kind] of BUILDS) {
    it(`${name}.wasm`, async () => {
      const r = await check(readFileSync(join(BUILD, `${name}.wasm`)), kind);
      expect(violations(r)).toEqual([]);
      expectCovered(r, kind);
    });
  }

  describe("a program built with the AssemblyScript library", () => {
    let dir: string;
    let wasm: Uint8Array;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "ordering-"));
      mkdirSync(join(dir, "assembly"));
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(ROOT, join(dir, "node_modules/wasm-vdso"), "dir");
      writeFileSync(join(dir, "asconfig.json"), JSON.stringify({ extends: "./node_modules/wasm-vdso/assembly/asconfig.lib.json", options: { optimizeLevel: 3, noAssert: true } }));
      writeFileSync(join(dir, "assembly/index.ts"), LIB_PROGRAM);
      const stderr = asc.createMemoryStream();
      const { error } = await asc.main(["--baseDir", dir, "assembly/index.ts", "--config", "asconfig.json", "--target", "shared", "--outFile", "build/p.wasm"], { stdout: asc.createMemoryStream(), stderr });
      if (error) throw new Error(`asc: ${error.message}\n${stderr.toString()}`);
      wasm = readFileSync(join(dir, "build/p.wasm"));
    }, 120_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("now_ns inlined, clock_gettime, time, getrandom", async () => {
      const r = await check(wasm, "lib");
      expect(violations(r)).toEqual([]);
      expectCovered(r, "lib");
    });
  });

  it("the JS reader (pageclock's lastConsistent) loads every word of a block with Atomics.load between its seq loads", async () => {
    const s = await kernelStore(true, "virtual");
    const time = s.pages.time;
    const loads: number[] = [];
    const load = Atomics.load;
    Atomics.load = ((a: Uint32Array, i: number) => (loads.push(a.byteOffset + i * a.BYTES_PER_ELEMENT), load(a, i))) as typeof Atomics.load;
    try {
      expect(lastConsistent(s.memory, time, s.pages.arch!)?.bad.size).toBe(0);
    } finally {
      Atomics.load = load;
    }
    // Each block (read once: no writer runs): between its first and last seq load, every other word of it.
    const missing = CLOCK_BLOCKS.filter((off) => {
      const vc = time + off;
      const inside = new Set(loads.slice(loads.indexOf(vc) + 1, loads.lastIndexOf(vc)));
      return Array.from({ length: vdso_clock.SIZE / 4 - 1 }, (_, w) => vc + 4 + 4 * w).some((at) => !inside.has(at));
    });
    expect(missing, "blocks not read word by word with Atomics.load").toEqual([]);
    s.close();
  });

  it("the rule matches loads by the bytes they cover: an 8-byte atomic load of seq and clock_mode opens a window, a partial or plain one breaks it", () => {
    const w = storeWords({ time: TIME_PAGE });
    const at = (off: number) => clockAt(TIME_PAGE, 0) + off;
    const seq = at(vdso_clock.seq);
    const load = (a: number, bytes: number, atomic: boolean, value?: bigint) => ({ at: a, bytes, op: `i${bytes * 8}.${atomic ? "atomic." : ""}load`, atomic, value });
    const window = (open: ReturnType<typeof load>, ...data: ReturnType<typeof load>[]) => judge([open, ...data, load(seq, 4, true, 2n)], w);
    // seq 2 (even) in the low half, mode 4 in the high half; the data loads inside are checked.
    const pair = load(seq, 8, true, (4n << 32n) | 2n);
    expect(window(pair, load(at(vdso_clock.mult), 8, true))).toEqual({ violations: [], windows: 1 });
    expect(window(pair, load(at(vdso_clock.mult), 8, false)).violations).toEqual(["time.clock_data[0].mult loaded with i64.load between two loads of time.clock_data[0].seq"]);
    // An odd seq in the low half opens nothing (the high half's parity does not count).
    expect(window(load(seq, 8, true, (2n << 32n) | 3n), load(at(vdso_clock.mult), 8, false)).windows).toBe(0);
    // Plain, or covering seq only in part (2 of its bytes), is a violation.
    expect(window(load(seq, 8, false, 2n), load(at(vdso_clock.mult), 8, true)).violations).toEqual(["time.clock_data[0].seq loaded with i64.load"]);
    expect(judge([load(seq + 2, 4, true, 0n)], w).violations).toEqual(["time.clock_data[0].seq loaded in part with i32.atomic.load (4 bytes at time.clock_data[0].+2)"]);
  });

  it("negative control: plain data loads (testing-plain.wasm) fail on every read path", async () => {
    const r = await check(readFileSync(join(ROOT, "build/testing-plain.wasm")), "vdso");
    expectCovered(r, "vdso");
    const clean = [...WINDOWED.vdso, "getrandom"].filter((f) => !r.get(f)?.violations.size);
    expect(clean, "paths the checker passed on the plain build").toEqual([]);
    expect(violations(r)).toContain("hres: time.clock_data[0].cycle_last loaded with i64.load between two loads of time.clock_data[0].seq (quiet)");
  });
});

/** The library program: the read inlined (now_ns), and the entry points it re-exports. */
const LIB_PROGRAM = `
import { clock_gettime, getrandom, now_ns, time } from "wasm-vdso/assembly/lib";
export { bind, set_slot } from "wasm-vdso/assembly/lib";
export const BUF = memory.data(256, 16);
export function now(clock: i32): i64 { return now_ns(clock); }
export function gettime(clock: i32, ts: usize): i32 { return clock_gettime(clock, ts); }
export function seconds(): i64 { return time(0); }
export function random(buf: usize, len: usize): u32 { return getrandom(buf, len); }
`;
