// The writer's memory order, traced: every publication path does odd seq,
// barrier (an atomic read-back of that seq), fields, even seq, and writes a
// seq-protected block only inside such a window; REALTIME's seconds (time())
// are one 64-bit store; the rng page is generation, then is_ready. Every
// access the kernel makes to its store is recorded (test/helpers/writer-trace.ts),
// and bytes of a block that changed with no recorded write fail the test too.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CLOCK_AUX, CLOCK_REALTIME, CS_BASES, MAX_AUX_CLOCKS, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_pages, vdso_rng_data } from "../assembly/layout.ts";
import { DataStore, storeMemory } from "../src/datastore.ts";
import { closeAbandoned } from "../src/kernel/adopt.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { Timekeeper } from "../src/kernel/timekeeper.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET } from "../src/kernel/timex.ts";
import { CLOCK_BLOCKS } from "../src/kernel/vsyscall.ts";
import { type Access, blocksOf, checkTrace, realtimeSecAt, snapshot, tornSecondWrites, traceStores, unrecordedChanges } from "./helpers/writer-trace.ts";

const REALTIME = { sec: 1_700_000_000n, nsec: 0n };
const pageBlocks = (page: number) => CLOCK_BLOCKS.map((off) => page + off);
const core = (page: number) => pageBlocks(page).slice(0, CS_BASES);
const aux = (page: number, i: number) => pageBlocks(page)[CS_BASES + i];
const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);

let tr: ReturnType<typeof traceStores>;
beforeAll(() => (tr = traceStores()));
afterAll(() => tr.stop());

/** Runs `op` traced and checks it: no error, no write behind the DataStore's back, REALTIME's seconds whole. */
async function traced(memory: WebAssembly.Memory, storeOf: () => DataStore, op: () => unknown) {
  tr.trace.length = 0;
  const before = snapshot(memory);
  await op();
  const trace = [...tr.trace];
  const store = storeOf();
  const blocks = blocksOf(store, tr.nsPages);
  const v = checkTrace(trace, blocks);
  expect(v.errors).toEqual([]);
  expect(unrecordedChanges(memory, before, trace, blocks)).toEqual([]);
  expect(tornSecondWrites(trace, store)).toEqual([]);
  return { ...v, trace };
}

describe("every publication path: odd seq, barrier, fields, even seq (shared memory)", () => {
  const memory = storeMemory(true);
  const cs = new VirtualClocksource();
  let k: Kernel;
  const shadow = () => k.store.arch + vdso_arch_data.shadow;
  /** Completed windows, as the set of blocks. */
  const done = (v: { windows: Map<number, number> }) => sorted(v.windows.keys());

  it("Kernel.create: every clock of the page and the shadow; the rng page's generation, then is_ready", async () => {
    const v = await traced(memory, () => k.store, async () => (k = await Kernel.create({ memory, clocksource: cs, realtime: REALTIME })));
    expect(done(v)).toEqual(sorted([...pageBlocks(k.store.time), ...pageBlocks(shadow())]));
    expect(v.open.size).toBe(0);
    const rng = v.trace.filter((a) => a.addr >= k.store.rng && a.addr < k.store.rng + vdso_pages.PAGE_SIZE && a.op !== "load");
    expect(rng.map((a) => [a.method, a.addr - k.store.rng])).toEqual([
      ["storeU64Atomic", vdso_rng_data.generation],
      ["storeU32Atomic", vdso_rng_data.is_ready],
    ]);
  });

  it("auxClockEnable: that aux clock and the shadow", async () => {
    const v = await traced(memory, () => k.store, () => expect(k.auxClockEnable(2, true)).toBe(0));
    expect(done(v)).toEqual(sorted([aux(k.store.time, 2), ...pageBlocks(shadow())]));
    for (let i = 0; i < MAX_AUX_CLOCKS; i++) k.auxClockEnable(i, true);
  });

  for (const numbers of [true, false]) {
    it(`tick, core + 8 aux clocks (${numbers ? "number" : "bigint"} path): every block once, REALTIME's seconds in one 64-bit atomic store`, async () => {
      Timekeeper.numbers = numbers;
      try {
        const v = await traced(memory, () => k.store, () => {
          cs.advanceNs(4_000_000);
          k.tick();
        });
        expect(done(v)).toEqual(sorted([...pageBlocks(k.store.time), ...pageBlocks(shadow())]));
        expect([...v.windows.values()].every((n) => n === 1)).toBe(true);
        const sec = v.trace.filter((a) => a.addr === realtimeSecAt(k.store) && a.op !== "load");
        expect(sec.map((a) => [a.method, a.value])).toEqual([["storeU64Atomic", 1_700_000_000n]]);
      } finally {
        Timekeeper.numbers = true;
      }
    });
  }

  const ops: [string, () => unknown, (t: number) => number[]][] = [
    ["clockSettime(REALTIME)", () => expect(k.clockSettime(CLOCK_REALTIME, { sec: 1_700_000_100n, nsec: 5n })).toBe(0), (t) => core(t)],
    ["clockSettime(an aux clock)", () => expect(k.clockSettime(CLOCK_AUX + 3, { sec: 42n, nsec: 7n })).toBe(0), (t) => [aux(t, 3)]],
    ["adjtimex (offset and frequency)", () => expect(k.adjtimex({ modes: ADJ_SETOFFSET | ADJ_FREQUENCY | ADJ_NANO, freq: 65536n * 20n, time: { sec: 1n, usec: 5n } })).toBeGreaterThanOrEqual(0), (t) => core(t)],
    ["clockAdjtime(an aux clock)", () => expect(k.clockAdjtime(CLOCK_AUX + 1, { modes: ADJ_SETOFFSET | ADJ_FREQUENCY | ADJ_NANO, freq: -65536n, time: { sec: 0n, usec: 9n } })).toBeGreaterThanOrEqual(0), (t) => [aux(t, 1)]],
    ["suspend", () => expect(k.suspend(2_000_000_000)).toBe(0), (t) => core(t)],
    ["settimeofday(tv, tz)", () => expect(k.settimeofday({ sec: 1_700_000_200n, nsec: 0n }, { minuteswest: -60, dsttime: 1 })).toBe(0), (t) => core(t)],
    ["settimeofday(null, tz)", () => expect(k.settimeofday(null, { minuteswest: 120, dsttime: 0 })).toBe(0), () => []],
  ];
  for (const [name, op, blocks] of ops) {
    it(`${name}: its clocks, then the shadow`, async () => {
      const v = await traced(memory, () => k.store, op);
      expect(done(v)).toEqual(sorted([...blocks(k.store.time), ...pageBlocks(shadow())]));
      expect(v.open.size).toBe(0);
    });
  }

  it("settimeofday's tz: atomic word stores, outside any window (no seq in Linux either)", async () => {
    const v = await traced(memory, () => k.store, () => k.settimeofday(null, { minuteswest: 30, dsttime: 1 }));
    const tz = v.trace.filter((a) => a.addr >= k.store.time && a.addr < k.store.time + vdso_pages.PAGE_SIZE && a.op !== "load" && a.op !== "atomicLoad");
    expect(tz.map((a) => a.method)).toEqual(["storeU32Atomic", "storeU32Atomic"]);
  });

  it("createTimeNamespace: each clock of the new page begun (seq 1) with its barrier before its fields, left odd", async () => {
    let page = 0;
    const v = await traced(memory, () => k.store, () => {
      const ns = k.createTimeNamespace({ monotonic: { sec: 10n, nsec: 0n } });
      if (typeof ns === "number") throw new Error(`errno ${ns}`);
      page = ns.page;
    });
    expect(sorted(v.open)).toEqual(pageBlocks(page));
    expect(sorted(v.written)).toEqual(pageBlocks(page));
    for (const b of pageBlocks(page)) expect(new DataView(memory.buffer).getUint32(b, true)).toBe(1);
  });

  it("the rng page's reseed: one atomic store of the generation", async () => {
    const v = await traced(memory, () => k.store, () => k.rng.reseed());
    expect(v.trace.filter((a) => a.op !== "load").map((a) => [a.method, a.addr - k.store.rng])).toEqual([["storeU64Atomic", vdso_rng_data.generation]]);
  });

  it("close: every clock of the page odd, barrier, then mode TIMENS (left odd)", async () => {
    const v = await traced(memory, () => k.store, () => k.close());
    expect(sorted(v.open)).toEqual(pageBlocks(k.store.time));
    expect(sorted(v.written)).toEqual(pageBlocks(k.store.time));
    for (const b of pageBlocks(k.store.time)) expect(new DataView(memory.buffer).getInt32(b + vdso_clock.clock_mode, true)).toBe(vdso_clock_mode.TIMENS);
  });

  it("adoption of the closed store: every clock again in a window of its own, none left odd", async () => {
    let k2: Kernel | undefined;
    const v = await traced(memory, () => k2?.store ?? k.store, async () => (k2 = await Kernel.create({ memory, clocksource: new VirtualClocksource(), adopt: true })));
    expect(done(v)).toEqual(sorted([...pageBlocks(k2!.store.time), ...pageBlocks(shadow())]));
    expect(v.open.size).toBe(0);
    k2!.close();
  });

  it("closeAbandoned of a writer that died inside its shadow copy: the shadow repaired block by block (bytes().set), then the page closed", async () => {
    const m = storeMemory(true);
    const cs2 = new VirtualClocksource();
    const dead = await Kernel.create({ memory: m, clocksource: cs2, realtime: REALTIME });
    cs2.advanceNs(4_000_000);
    dead.tick();
    // Dies with one shadow block mid-copy: seq odd, half its bytes new.
    const sh = dead.store.arch + vdso_arch_data.shadow + CLOCK_BLOCKS[0];
    const d = new DataView(m.buffer);
    d.setUint32(sh, d.getUint32(sh, true) + 1, true);
    d.setUint32(sh + vdso_clock.mult, 12345, true);
    const v = await traced(m, () => dead.store, () => closeAbandoned(m));
    expect(v.trace.some((a) => a.method === "bytes().set")).toBe(true);
    expect(done(v)).toEqual(pageBlocks(dead.store.arch + vdso_arch_data.shadow));
    expect(sorted(v.open)).toEqual(pageBlocks(dead.store.time));
  });
});

describe("the checker can fail (negative controls)", () => {
  const B = 0x1000; // a block at 0x1000
  const blocks = [B];
  const seqStore = (v: number): Access => ({ op: "atomicStore", method: "storeU32Atomic", addr: B, len: 4, value: v });
  const readBack: Access = { op: "atomicLoad", method: "loadU32Atomic", addr: B, len: 4 };
  const field: Access = { op: "store", method: "setU64", addr: B + vdso_clock.cycle_last, len: 8, value: 1n };

  it("accepts odd, read-back, field, even", () => {
    const v = checkTrace([seqStore(1), readBack, field, seqStore(2)], blocks);
    expect(v.errors).toEqual([]);
    expect(v.windows.get(B)).toBe(1);
  });

  it("rejects today's writer shape: odd seq, then fields with no read-back", () => {
    expect(checkTrace([seqStore(1), field, seqStore(2)], blocks).errors.join()).toMatch(/no barrier/);
  });

  it("rejects a seq written by a plain store (the namespace page as it was), a field outside a window, an even seq with none open", () => {
    expect(checkTrace([{ op: "store", method: "setU32", addr: B, len: 4, value: 1 }], blocks).errors.join()).toMatch(/other than by an atomic/);
    expect(checkTrace([seqStore(1), readBack, seqStore(2), field], blocks).errors.join()).toMatch(/outside a window/);
    expect(checkTrace([seqStore(2)], blocks).errors.join()).toMatch(/no window open/);
    expect(checkTrace([seqStore(1), readBack, { op: "copy", method: "copy", addr: B, len: vdso_clock.SIZE }, seqStore(2)], blocks).errors.join()).toMatch(/other than by an atomic/);
  });

  it("rejects a real tick whose begin has no read-back (the barrier patched out, as the writer was)", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ memory: storeMemory(true), clocksource: cs, realtime: REALTIME });
    const proto = DataStore.prototype;
    const readBackOrig = proto.storeU32AtomicReadBack;
    proto.storeU32AtomicReadBack = function (this: DataStore, addr: number, v: number) {
      this.storeU32Atomic(addr, v);
      return v;
    };
    tr.trace.length = 0;
    try {
      cs.advanceNs(4_000_000);
      k.tick();
    } finally {
      proto.storeU32AtomicReadBack = readBackOrig;
    }
    const v = checkTrace(tr.trace, blocksOf(k.store));
    const failed = new Set(v.errors.map((e) => Number(/block (0x[0-9a-f]+)/.exec(e)![1])));
    expect(sorted(failed)).toEqual(sorted([...core(k.store.time), ...pageBlocks(k.store.arch + vdso_arch_data.shadow)]));
    expect(v.errors.every((e) => /no barrier/.test(e))).toBe(true);
    k.close();
  });

  it("rejects REALTIME's seconds written in two halves, and a block changed behind the DataStore's back", async () => {
    const m = storeMemory(true);
    const store = new DataStore(m);
    expect(tornSecondWrites([{ op: "store2x32", method: "setU64n", addr: realtimeSecAt(store), len: 8, value: 1 }], store)).toHaveLength(1);
    const before = snapshot(m);
    new Uint8Array(m.buffer)[store.time + vdso_clock.mult] = 7;
    expect(unrecordedChanges(m, before, [], blocksOf(store))).toEqual([store.time + vdso_clock.mult]);
  });
});

describe("the DataStore primitives", () => {
  it("on shared memory, storeU32AtomicReadBack is Atomics.store, then Atomics.load of the same word", () => {
    const store = new DataStore(storeMemory(true));
    const st = vi.spyOn(Atomics, "store");
    const ld = vi.spyOn(Atomics, "load");
    try {
      expect(store.storeU32AtomicReadBack(store.time, 3)).toBe(3);
      expect(st).toHaveBeenCalledTimes(1);
      expect(ld).toHaveBeenCalledTimes(1);
      expect(st.mock.calls[0][1]).toBe(store.time >> 2);
      expect(ld.mock.calls[0][1]).toBe(store.time >> 2);
      expect(st.mock.invocationCallOrder[0]).toBeLessThan(ld.mock.invocationCallOrder[0]);
    } finally {
      st.mockRestore();
      ld.mockRestore();
    }
  });

  it("storeU64AtomicN (REALTIME's seconds on the number path) makes a BigInt only when the value changes: none on most ticks", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ memory: storeMemory(true), clocksource: cs, realtime: REALTIME });
    const orig = globalThis.BigInt;
    let made = 0;
    globalThis.BigInt = new Proxy(orig, {
      apply: (t, self, args) => {
        if (/storeU64AtomicN/.test(new Error().stack ?? "")) made++;
        return Reflect.apply(t, self, args);
      },
    });
    try {
      for (const v of [5, 5, 5, 6, 6, -1]) k.store.storeU64AtomicN(k.store.time + 4096 - 8, v);
      expect(made).toBe(3);
      expect(new BigUint64Array(k.memory.buffer)[(k.store.time + 4096 - 8) / 8]).toBe(2n ** 64n - 1n);
      made = 0;
      for (let i = 0; i < 500; i++) { // 2 s of ticks
        cs.advanceNs(4_000_000n);
        k.tick();
      }
      expect(made).toBeLessThanOrEqual(3);
    } finally {
      globalThis.BigInt = orig;
      k.close();
    }
  });
});
