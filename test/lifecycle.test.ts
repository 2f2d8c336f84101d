// Readers and writers over a store's life: slots come back, one writer per
// store, and a reader that comes before the first publish takes the fallback.
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { CLOCK_AUX, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, ENOSYS, MAX_READER_SLOTS } from "../assembly/layout.ts";
import * as ntp from "../src/kernel/timex.ts";
import { DataStore, storeMemory } from "../src/datastore.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { createReader, type Reader } from "../src/reader.ts";
import { KernelWorker } from "../src/workers/kernel.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("reader slots", () => {
  it(`come back on close(): ${MAX_READER_SLOTS - 1} readers, closed, then as many again`, async () => {
    const k = await Kernel.create({ clocksource: new VirtualClocksource() });
    for (let round = 0; round < 2; round++) {
      const rs: Reader[] = [];
      for (let i = 0; i < MAX_READER_SLOTS - 1; i++) rs.push(await createReader(k));
      await expect(createReader(k)).rejects.toThrow(/reader slots/);
      expect(rs[rs.length - 1].nowNs(CLOCK_MONOTONIC)).toBe(0n);
      for (const r of rs) r.close();
    }
  });

  it("come back when a reader is dropped and collected", async () => {
    const k = await Kernel.create({ clocksource: new VirtualClocksource() });
    const fill = async () => {
      for (let i = 0; i < MAX_READER_SLOTS - 1; i++) await createReader(k); // dropped at once
    };
    await fill();
    let again: Reader | undefined;
    for (let tries = 0; tries < 50 && !again; tries++) {
      gc();
      await new Promise((r) => setTimeout(r, 20)); // finalizers run after the collection
      again = await createReader(k).catch(() => undefined);
    }
    expect(again).toBeDefined();
    await fill().catch(() => {}); // the rest of the reclaimed slots are usable too
    expect(again!.nowNs(CLOCK_MONOTONIC)).toBe(0n);
  });
});

describe("one writer per store", () => {
  it("a second kernel on a live store is refused and the store is untouched", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ clocksource: cs, memory: storeMemory(true), realtime: { sec: 1_700_000_000n, nsec: 0n } });
    const r = await createReader(k);
    cs.advanceNs(5_000_000);
    k.tick();
    const before = new Uint8Array(k.memory.buffer, k.store.time, 4 * 4096).slice();
    await expect(Kernel.create({ clocksource: new VirtualClocksource(), memory: k.memory })).rejects.toThrow(/already has a writer/);
    await expect(Kernel.create({ counter: "host-call", memory: k.memory })).rejects.toThrow(/already has a writer/);
    expect(new Uint8Array(k.memory.buffer, k.store.time, 4 * 4096)).toEqual(before);
    expect(r.nowNs(CLOCK_REALTIME)).toBe(1_700_000_000_005_000_000n);
  });

  it("a kernel in this thread cannot take a KernelWorker's store; its readers keep a monotonic clock", async () => {
    const kw = await KernelWorker.start({ counter: "host-call" });
    try {
      const r = await createReader(kw);
      const t0 = r.nowNs(CLOCK_MONOTONIC);
      await expect(Kernel.create({ memory: kw.memory, counter: "host-call" })).rejects.toThrow(/already has a writer/);
      let prev = t0;
      const end = Date.now() + 300;
      while (Date.now() < end) {
        const t = r.nowNs(CLOCK_MONOTONIC);
        expect(t >= prev).toBe(true);
        prev = t;
        await new Promise((res) => setTimeout(res, 1));
      }
      expect(prev - t0).toBeGreaterThan(200_000_000n);
      expect(r.nowNs(CLOCK_REALTIME) / 1_000_000_000n).toBeGreaterThan(1_700_000_000n); // not restarted near 0
    } finally {
      await kw.close();
    }
  });
});

describe("a reader before the first publish", () => {
  it("takes the fallback for every clock, time() and clock_getres instead of reading zeros", async () => {
    const memory = storeMemory();
    const store = new DataStore(memory); // zeroed, never published
    const r = await createReader({ memory, view: store.rootView() });
    for (const c of [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE]) {
      expect(r.clockGettime(c).ret, `clock ${c}`).toBe(-ENOSYS);
      expect(r.clockGetres(c).ret, `getres ${c}`).toBe(-ENOSYS);
      expect(r.nowNs(c)).toBe(BigInt(-ENOSYS));
    }
    expect(r.time()).toBe(BigInt(-ENOSYS));
    expect(r.gettimeofday().ret).toBe(-ENOSYS);
  });
});

describe("a kernel that adopts a store", () => {
  it("keeps the NTP frequencies the old writer set (the core and each aux clock)", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "virtual" });
    k.auxClockEnable(0, true);
    k.adjtimex(ntp.timex({ modes: ntp.ADJ_FREQUENCY, freq: 100n << 16n }));
    k.clockAdjtime(CLOCK_AUX, ntp.timex({ modes: ntp.ADJ_FREQUENCY, freq: -(50n << 16n) }));
    k.close();
    const k2 = await Kernel.create({ memory, counter: "virtual", adopt: true });
    const core = ntp.timex({});
    const aux = ntp.timex({});
    k2.adjtimex(core);
    k2.clockAdjtime(CLOCK_AUX, aux);
    expect(core.freq).toBe(100n << 16n);
    expect(aux.freq).toBe(-(50n << 16n));
    k2.close();
  });
});

describe("adoption, raced and across counters", () => {
  it("two kernels adopting one closed store at once: exactly one wins", async () => {
    const memory = storeMemory(true);
    (await Kernel.create({ memory, counter: "virtual" })).close();
    const r = await Promise.allSettled([Kernel.create({ memory, counter: "virtual", adopt: true }), Kernel.create({ memory, counter: "virtual", adopt: true })]);
    expect(r.map((x) => x.status).sort()).toEqual(["fulfilled", "rejected"]);
    for (const x of r) if (x.status === "fulfilled") x.value.close();
  });

  it("a closed shared-counter store adopted by a shared-counter kernel: time goes on by the host's time, no jump", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "shared" });
    const r = await createReader({ memory, view: k.rootView() });
    const h0 = process.hrtime.bigint();
    const t0 = r.nowNs(CLOCK_MONOTONIC);
    k.close();
    const k2 = await Kernel.create({ memory, counter: "shared", adopt: true });
    await new Promise((res) => setTimeout(res, 100));
    const t1 = r.nowNs(CLOCK_MONOTONIC);
    const h1 = process.hrtime.bigint();
    expect(t1 >= t0).toBe(true);
    expect(t1 - t0).toBeLessThanOrEqual(h1 - h0 + 5_000_000n); // the host's elapsed time, give or take the ticker's lag
    expect(r.status().writer).toBe("running");
    k2.close();
  });

  it("a caller's own VirtualClocksource (its counter elsewhere) continues the adopted clocks, none back", async () => {
    const memory = storeMemory(true);
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ memory, clocksource: cs });
    const r = await createReader({ memory, view: k.rootView() });
    cs.advanceNs(410_000_000);
    k.tick();
    const before = r.nowNs(CLOCK_MONOTONIC);
    k.close();
    const mine = new VirtualClocksource(1_000_000_000, 5n);
    const k2 = await Kernel.create({ memory, clocksource: mine, adopt: true });
    const after = r.nowNs(CLOCK_MONOTONIC);
    expect(after >= before).toBe(true);
    mine.advanceNs(1_000_000);
    k2.tick();
    expect(r.nowNs(CLOCK_MONOTONIC) - after).toBeGreaterThanOrEqual(1_000_000n);
    k2.close();
  });
});
