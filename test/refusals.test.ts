// Every refusal leaves no trace (issue 21, item 5), on the kernel's side: a
// timex the call cannot write back, a getter that closes the kernel in the
// middle of a call, options read once, tick rates and ticker periods a timer
// cannot hold. The memory side (views, WASI aliasing) is refusals-memory.test.ts.
import { describe, expect, it, onTestFinished } from "vitest";
import { CLOCK_AUX, CLOCK_MONOTONIC, CLOCK_REALTIME, EFAULT, vdso_pages } from "../assembly/layout.ts";
import { storeMemory } from "../src/datastore.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { ADJ_FREQUENCY, ADJ_SETOFFSET, timex } from "../src/kernel/timex.ts";
import { KernelWorker } from "../src/workers/kernel.ts";
import { booted, countTicks, expectNoTrace, SEC, type VK } from "./helpers/notrace.ts";
import { EPOCH, vdsoNs } from "./helpers/kernel.ts";

/** A timex that changes REALTIME (or the aux clock) and the frequency, if applied. */
const step = () => ({ modes: ADJ_SETOFFSET | ADJ_FREQUENCY, time: { sec: 5, usec: 0 }, freq: 65536 });

/** Timexes whose read-back cannot be written, each with what its own fields looked like before. */
function unwritable(): [string, object][] {
  const frozen = Object.freeze(step());
  const sealed = Object.seal({ modes: ADJ_FREQUENCY, freq: 65536 }); // no room for the other fields
  const setter = { ...step(), get tai() { return 0; }, set tai(_: number) { throw new Error("no"); } };
  const getterOnly = { ...step(), get offset() { return 0; } };
  const proxy = new Proxy(step(), { set: () => { throw new Error("read-only view"); } });
  const refusing = new Proxy(step(), { set: () => false }); // a false set trap: a TypeError in strict code
  return [["frozen", frozen], ["sealed without the fields", sealed], ["a setter that throws", setter], ["a getter without a setter", getterOnly], ["a Proxy whose set trap throws", proxy], ["a Proxy whose set trap says no", refusing]];
}

/** An object's own fields, as data (for "untouched"). */
const fields = (o: object) => JSON.stringify(Object.getOwnPropertyNames(o).map((k) => [k, String((o as Record<string, unknown>)[k])]));

describe("a timex the call cannot write back is -EFAULT (adjtimex(2)), before anything changes", () => {
  const calls: [string, (k: Kernel, t: object) => number][] = [
    ["adjtimex", (k, t) => k.adjtimex(t)],
    ["clockAdjtime(REALTIME)", (k, t) => k.clockAdjtime(CLOCK_REALTIME, t)],
    ["clockAdjtime(AUX)", (k, t) => k.clockAdjtime(CLOCK_AUX, t)],
  ];

  it.each(calls)("%s: frozen, sealed, a setter, a getter alone, a Proxy: refused with no trace, the object as it was", async (_, call) => {
    const v = await booted();
    for (const [what, t] of unwritable()) {
      const before = fields(t);
      expectNoTrace(v, () => expect(call(v.k, t), what).toBe(-EFAULT));
      expect(fields(t), what).toBe(before);
    }
    // the control: the same call with a plain object is applied, and the read-back written
    const t = step();
    const before = [CLOCK_REALTIME, CLOCK_AUX].map((c) => vdsoNs(v.r, c));
    expect(call(v.k, t)).toBeGreaterThanOrEqual(0);
    expect(t.freq).toBe(65536n);
    const moved = [CLOCK_REALTIME, CLOCK_AUX].map((c, i) => vdsoNs(v.r, c) - before[i]);
    expect(moved.some((d) => d >= 5n * SEC)).toBe(true);
  });

  it("a setter that calls back into the kernel (a tick) is refused the same way; a setter that closes the kernel stops the call", async () => {
    const v = await booted();
    const calling = { ...step(), set tai(_: number) { v.k.tick(); } };
    expectNoTrace(v, () => expect(v.k.adjtimex(calling)).toBe(-EFAULT));
    const page = closingPage(v);
    const closing = { ...step(), set tai(_: number) { page.close(); } };
    expect(() => v.k.adjtimex(closing)).toThrow(/closed/);
    page.expectUntouched();
    expect(closing.freq).toBe(65536); // put back: the read-back's bigints are gone
  });

  it("a KernelWorker: the timex is tried here first, -EFAULT before the call is sent", async () => {
    const kw = await KernelWorker.start({ counter: "host-call" });
    onTestFinished(() => kw.close());
    const read = async () => {
      const t = timex();
      await kw.call("adjtimex", t);
      return t.freq;
    };
    for (const [what, t] of unwritable()) {
      const before = fields(t);
      expect(await kw.call("adjtimex", t as never), what).toBe(-EFAULT);
      expect(await kw.call("clockAdjtime", CLOCK_REALTIME, t as never), what).toBe(-EFAULT);
      expect(fields(t), what).toBe(before);
    }
    expect(await read()).toBe(0n); // no frequency was set
    const t = { modes: ADJ_FREQUENCY, freq: 65536 };
    expect(await kw.call("adjtimex", t)).toBeGreaterThanOrEqual(0);
    expect([t.freq, await read()]).toEqual([65536n, 65536n]);
  });
});

/**
 * Closes the kernel when asked (from a getter or setter) and keeps the store's
 * pages as close() left them; then checks that nothing was written after.
 */
function closingPage(v: VK) {
  const { store } = v.k;
  const pages = () => Array.from(store.bytes(store.time, vdso_pages.VDSO_NR_PAGES * vdso_pages.PAGE_SIZE));
  let after: number[] | undefined;
  return {
    close() {
      v.k.close();
      after = pages();
    },
    expectUntouched() {
      expect(after, "the getter ran").toBeDefined();
      expect(pages()).toEqual(after);
      // readers carry the last state forward, they do not freeze at -ENOSYS
      expect(v.r.clockGettime(CLOCK_REALTIME).ret).toBe(0);
    },
  };
}

describe("a getter that closes the kernel in the middle of a call: the call stops before writing", () => {
  type Probe = (k: Kernel, close: () => void) => unknown;
  const sec = (close: () => void, v: bigint) => ({ get sec() { close(); return v; }, nsec: 0n });
  const probes: [string, Probe][] = [
    ["clockSettime(REALTIME, tp)", (k, c) => k.clockSettime(CLOCK_REALTIME, sec(c, 1_800_000_000n))],
    ["clockSettime(AUX, tp)", (k, c) => k.clockSettime(CLOCK_AUX, sec(c, 1_800_000_000n))],
    ["settimeofday(tv)", (k, c) => k.settimeofday(sec(c, 1_800_000_000n), null)],
    ["settimeofday(tv, tz)", (k, c) => k.settimeofday(null, { get minuteswest() { c(); return 60; }, dsttime: 0 })],
    ["adjtimex(txc)", (k, c) => k.adjtimex({ ...step(), get freq() { c(); return 65536; } })],
    ["clockAdjtime(REALTIME, txc)", (k, c) => k.clockAdjtime(CLOCK_REALTIME, { ...step(), get modes() { c(); return ADJ_SETOFFSET; } })],
    ["clockAdjtime(AUX, txc.time)", (k, c) => k.clockAdjtime(CLOCK_AUX, { modes: ADJ_SETOFFSET, time: { get sec() { c(); return 5; }, usec: 0 } })],
    ["createTimeNamespace(offsets)", (k, c) => k.createTimeNamespace({ get monotonic() { c(); return { sec: 1n, nsec: 0n }; } })],
    ["createTimeNamespace(offsets.boottime.nsec)", (k, c) => k.createTimeNamespace({ boottime: { sec: 1n, get nsec() { c(); return 0n; } } })],
  ];

  it.each(probes)("%s", async (_, probe) => {
    const v = await booted();
    const page = closingPage(v);
    expect(() => probe(v.k, () => page.close())).toThrow(/closed/);
    page.expectUntouched(); // the arch page too: no namespace page was taken
  });
});

describe("KernelWorker.start keeps the options it checked", () => {
  it("a restart uses them, not what a getter says later", { timeout: 60_000 }, async () => {
    let reads = 0;
    let restarted: () => void = () => {};
    const onRestart = new Promise<void>((res) => (restarted = res));
    const kw = await KernelWorker.start({
      counter: "host-call",
      restart: true,
      get hz() {
        return reads++ === 0 ? 250 : 0; // 0 is no tick rate: a restart that read it again failed
      },
      onRestart: () => restarted(),
    });
    onTestFinished(() => kw.close());
    await (kw as unknown as { w: { terminate(): Promise<unknown> } }).w.terminate();
    await Promise.race([onRestart, new Promise((res) => setTimeout(res, 20_000))]); // a failed restart never calls onRestart
    expect(kw.running).toBe(true);
    expect(typeof (await kw.call("sysClockGettime", CLOCK_MONOTONIC))).toBe("object");
    expect(reads).toBe(1);
  });
});

describe("a shared counter's ticker period is at most a tick", () => {
  it("tickerPeriodNs over 4 ms is a RangeError naming it, before any store is claimed or worker started (1 s took create 10 s, then fell back)", async () => {
    const memory = storeMemory(true);
    for (const tickerPeriodNs of [4_000_001, 1_000_000_000, 2 ** 53 - 1]) {
      await expect(Kernel.create({ counter: "shared", memory, tickerPeriodNs }), String(tickerPeriodNs)).rejects.toThrow(/tickerPeriodNs must be an integer in \[0, 4000000\]/);
      await expect(KernelWorker.start({ counter: "shared", tickerPeriodNs }), String(tickerPeriodNs)).rejects.toThrow(RangeError);
    }
    const k = await Kernel.create({ counter: "shared", memory, tickerPeriodNs: 4_000_000 }); // the store was not claimed
    k.close();
  });
});

describe("Kernel.create reads each option once", () => {
  it("a getter that turns bad after the checks is not read again: the kernel is made with what was checked", async () => {
    const memory = storeMemory();
    const reads: Record<string, number> = {};
    let cs: unknown = new VirtualClocksource();
    const opts = {
      memory,
      get clocksource() {
        reads.clocksource = (reads.clocksource ?? 0) + 1;
        const c = cs;
        cs = {}; // no read(): it would fail after the store was claimed
        return c as VirtualClocksource;
      },
      get realtime() {
        reads.realtime = (reads.realtime ?? 0) + 1;
        return reads.realtime === 1 ? EPOCH : { sec: -1n, nsec: 0n };
      },
    };
    const k = await Kernel.create(opts);
    expect(reads).toEqual({ clocksource: 1, realtime: 1 });
    expect(k.sysClockGettime(CLOCK_REALTIME)).toEqual(EPOCH);
    k.close();
  });
});

describe("tick rates whose period no host timer holds are refused (setInterval made them 1 ms)", () => {
  const TOO_SLOW = [1e-7, 4.6e-7, Number.MIN_VALUE];

  it("Kernel.startTicking: RangeError naming hz, and the ticker it had keeps ticking", async () => {
    const { k } = await booted();
    onTestFinished(() => k.close());
    const ticks = countTicks(k);
    k.startTicking(100);
    for (const hz of TOO_SLOW) expect(() => k.startTicking(hz), String(hz)).toThrow(/hz .*longer than a host timer holds/);
    await new Promise((r) => setTimeout(r, 200));
    expect(ticks()).toBeGreaterThan(2); // still 100 Hz
    expect(ticks()).toBeLessThan(60); // not 1 kHz
    // the slowest rate a timer holds (a tick every ~24.8 days) is accepted, and then nothing ticks
    k.startTicking(1000 / 0x7fffffff);
    const t0 = ticks();
    await new Promise((r) => setTimeout(r, 50));
    expect(ticks()).toBe(t0);
    k.stopTicking();
  });

  it("KernelWorker: refused before a worker starts, and as a call", async () => {
    for (const hz of TOO_SLOW) await expect(KernelWorker.start({ counter: "host-call", hz }), String(hz)).rejects.toThrow(/hz .*longer than a host timer holds/);
    const kw = await KernelWorker.start({ counter: "host-call" });
    onTestFinished(() => kw.close());
    await expect(kw.call("startTicking", 1e-7)).rejects.toThrow(RangeError);
    expect(kw.running).toBe(true);
  });
});
