// Every refusal leaves no trace (issue 21, item 5): a timex the call cannot
// write back, and a getter that closes the kernel in the middle of a call.
import { describe, expect, it, onTestFinished } from "vitest";
import { CLOCK_AUX, CLOCK_REALTIME, EFAULT, vdso_pages } from "../assembly/layout.ts";
import { storeMemory } from "../src/datastore.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { ADJ_FREQUENCY, ADJ_SETOFFSET, timex } from "../src/kernel/timex.ts";
import { KernelWorker } from "../src/workers/kernel.ts";
import { booted, expectNoTrace, SEC, type VK } from "./helpers/notrace.ts";
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
