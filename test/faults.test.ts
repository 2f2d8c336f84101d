// Longer than ~350 lines on purpose: every fault the issue lists, each a
// describe, over one harness (helpers/faults.ts).
// Fault injection: the writer killed inside and between updates (hundreds of
// times), stray seq increments, a paused writer, double close, close while
// readers read, and real KernelWorker kills. Assertions are on behaviour and
// counts (no error to a caller, no backward read, give-ups per stuck seq,
// time carried forward), never on wall time.
import { describe, expect, it } from "vitest";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
  vdso_arch_data, vdso_clock, vdso_time_data,
} from "../assembly/layout.ts";
import { archPage, DataStore, storeMemory } from "../src/datastore.ts";
import { closeAbandoned } from "../src/kernel/adopt.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { createReader, type Reader } from "../src/reader.ts";
import { KernelWorker } from "../src/workers/kernel.ts";
import { CLOCKS, type FaultRunResult, faultRun, killAt, pauseAt, READERS, type ReaderName, silence, WriterDeath, XorShift } from "./helpers/faults.ts";

const MONO_FAMILY = [CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_AUX];
const SINGLE_WORD: ReaderName[] = ["hres", "raw", "aux"];

/** The assertions every fault run must pass. `slackPpm`: how far NTP may have moved MONOTONIC and aux from the counter. */
function checkRun(r: FaultRunResult, minDeaths: number) {
  expect(r.deaths).toBeGreaterThanOrEqual(minDeaths);
  expect(r.episodes.filter((e) => e.kind === "inside").length).toBeGreaterThan(minDeaths / 3);
  expect(r.episodes.filter((e) => e.kind === "between").length).toBeGreaterThan(0);
  expect(r.episodes.filter((e) => e.closed).length).toBeGreaterThan(0);
  expect(r.episodes.filter((e) => !e.closed).length).toBeGreaterThan(0);
  // No error to a caller, no backward read, status() tells the truth.
  expect(r.errors).toEqual([]);
  expect(r.backward).toEqual([]);
  expect(r.statusErrors).toEqual([]);
  // Known gap (see "known gaps" below): only in episodes where the page was ahead of the shadow at the death.
  if (r.backwardShadowGap.length) expect(r.episodes.some((e) => e.shadowGap)).toBe(true);
  // Each reader of one seq word gives up at most once per stuck (word, seq) it met, per episode and overall.
  for (const e of r.episodes) {
    for (const n of SINGLE_WORD) expect(e.giveUps[n], `${n} in ${JSON.stringify(e)}`).toBeLessThanOrEqual(e.stuck[n]);
    // The reader of every clock: once per stuck word per round at most (≤ 5 rounds in an episode; see the known gap).
    expect(e.giveUps.all, JSON.stringify(e)).toBeLessThanOrEqual(e.stuck.all * 5);
  }
  const stuckTotal = (n: ReaderName) => r.episodes.reduce((s, e) => s + e.stuck[n], 0);
  for (const n of SINGLE_WORD) expect(r.giveUps[n]).toBeLessThanOrEqual(stuckTotal(n));
  expect(r.giveUps.hres).toBeGreaterThan(0); // the bounded wait really was exercised
  // A wait that ended in a give-up is counted as a wait too; nobody waited without reason.
  for (const n of Object.keys(READERS) as ReaderName[]) expect(r.waits[n]).toBeGreaterThanOrEqual(r.giveUps[n]);
  // Time continued: each clock moved by the counter's time (RAW exactly; NTP may slew MONOTONIC and aux by ≤ 0.2 %).
  const d = (c: number) => r.last.get(c)! - r.first.get(c)!;
  const slack = (r.elapsedMax * 2n) / 1000n;
  expect(d(CLOCK_MONOTONIC_RAW)).toBeGreaterThanOrEqual(r.elapsedMin - BigInt(r.deaths));
  expect(d(CLOCK_MONOTONIC_RAW)).toBeLessThanOrEqual(r.elapsedMax + BigInt(r.deaths));
  expect(d(CLOCK_MONOTONIC)).toBeGreaterThanOrEqual(r.elapsedMin - slack);
  expect(d(CLOCK_MONOTONIC)).toBeLessThanOrEqual(r.elapsedMax + slack);
  // Steps: suspend moves BOOTTIME and REALTIME off MONOTONIC, setoffset REALTIME; a step the writer died in may or may not have landed.
  expect(d(CLOCK_BOOTTIME) - d(CLOCK_MONOTONIC)).toBeGreaterThanOrEqual(r.bootSure);
  expect(d(CLOCK_BOOTTIME) - d(CLOCK_MONOTONIC)).toBeLessThanOrEqual(r.bootSure + r.bootMaybe);
  expect(d(CLOCK_REALTIME) - d(CLOCK_MONOTONIC)).toBeGreaterThanOrEqual(r.realSure);
  expect(d(CLOCK_REALTIME) - d(CLOCK_MONOTONIC)).toBeLessThanOrEqual(r.realSure + r.realMaybe);
  expect(d(CLOCK_AUX)).toBeGreaterThanOrEqual(r.elapsedMin + r.auxStepSure - slack);
  expect(d(CLOCK_AUX)).toBeLessThanOrEqual(r.elapsedMax + r.auxStepSure + r.auxStepMaybe + slack);
  for (const c of [CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME_COARSE]) expect(r.last.get(c)! > r.first.get(c)!).toBe(true);
}

describe("the writer killed inside and between updates", () => {
  it("at every write of every kind of update, then after it; abandoned open or closed; adopted (virtual counter, >= 200 deaths)", { timeout: 120_000 }, async () => {
    const r = await faultRun({ counter: "virtual", exhaustive: true, seed: 1 });
    checkRun(r, 200);
    // Every write of every operation was a death point.
    expect(new Set(r.episodes.map((e) => e.op)).size).toBe(7);
    expect(r.episodes.filter((e) => e.kind === "inside").length).toBeGreaterThan(300);
  });

  it("at random points, 200 deaths, host counter (readers carry the host's clock forward)", async () => {
    // No adopter deaths here: with the host counter the run is not reproducible, and one known gap (below) needs one.
    const r = await faultRun({ counter: "host-call", deaths: 200, seed: 0xfa17, adoptDeath: 0 });
    checkRun(r, 200);
  });

  it("at random points, 200 deaths, virtual counter, a fifth of the adopting kernels killed in their constructor too", async () => {
    const r = await faultRun({ counter: "virtual", deaths: 200, seed: 42, adoptDeath: 0.2 });
    checkRun(r, 200);
    expect(r.episodes.filter((e) => e.adopterDiedAt !== undefined).length).toBeGreaterThan(20);
  });

  it("an adopting kernel killed at every write of its constructor, the store abandoned open or closed: every clock answers, none goes back", async () => {
    for (const closed of [false, true]) {
      const { memory, cs, k, reader, hardware } = await virtualStore();
      const r = await reader();
      const prev = new Map<number, bigint>();
      readAll(r, prev);
      void k; // abandoned between updates
      if (closed) closeAbandoned(memory);
      let lived = false;
      for (let m = 1; !lived; m++) {
        const kp = killAt(DataStore.prototype, m, hardware);
        try {
          silence(memory);
          const k2 = await Kernel.create({ memory, counter: "virtual", adopt: true });
          lived = true;
          expect(m).toBeGreaterThan(30); // it wrote the core page, the aux clocks and the shadow
          (k2.cs as VirtualClocksource).advanceNs(4_000_000);
          k2.tick();
        } catch (e) {
          if (!(e instanceof WriterDeath)) throw e;
        } finally {
          kp.restore();
        }
        // The counter runs on whether or not a kernel lives.
        Atomics.add(new BigUint64Array(memory.buffer), hardware[0] >> 3, 1_000_000n);
        void cs;
        readAll(r, prev);
      }
    }
  });

  it("a Kernel object killed mid-update is left as a killed worker leaves it: it cannot write any more", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    const kill = killAt(k.store, 3);
    expect(() => k.publish()).toThrow(WriterDeath);
    expect(() => k.publish()).toThrow(WriterDeath);
    expect(kill.dead).toBe(true);
    // clock_data[0] and [1] are odd (the update began) and a new kernel can adopt the store.
    const u32 = new Uint32Array(memory.buffer);
    expect(u32[(k.store.time + vdso_time_data.clock_data) >> 2] & 1).toBe(1);
    silence(memory);
    const k2 = await Kernel.create({ memory, counter: "host-call", adopt: true });
    expect(u32[(k2.store.time + vdso_time_data.clock_data) >> 2] & 1).toBe(0);
  });
});

/** A kernel on a virtual counter in shared memory, page readers of it, and the counter word as "hardware". */
async function virtualStore() {
  const memory = storeMemory(true);
  const cs = new VirtualClocksource();
  const k = await Kernel.create({ memory, clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 0n } });
  k.auxClockEnable(0, true);
  cs.advanceNs(5_000_000);
  k.tick();
  const reader = () => createReader({ memory, view: k.rootView() });
  return { memory, cs, k, reader, hardware: [archPage() + vdso_arch_data.counter] };
}

const seqAt = (k: Kernel, clock: number) =>
  k.store.time + (clock === CLOCK_AUX ? vdso_time_data.aux_clock_data : vdso_time_data.clock_data + (clock === CLOCK_MONOTONIC_RAW ? vdso_clock.SIZE : 0));

describe("stray seq increments", () => {
  it("the next tick resyncs every clock: seq even after each tick, no reader error or backward read, a give-up only per stray odd value read", async () => {
    const { cs, k, reader } = await virtualStore();
    const r = await reader();
    const rng = new XorShift(99);
    const u32 = new Uint32Array(k.memory.buffer);
    const prev = new Map<number, bigint>();
    let strayOdd = 0;
    for (let i = 0; i < 300; i++) {
      const clock = [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_AUX][rng.int(0, 2)];
      const at = seqAt(k, clock) >> 2;
      const by = rng.int(1, 3);
      Atomics.add(u32, at, by); // a stray increment from outside the writer
      const odd = (Atomics.load(u32, at) & 1) === 1;
      if (odd && rng.chance(0.5)) {
        // A read while the stray value is odd: the bounded wait, then the fallback (one give-up for this value).
        strayOdd++;
        const v = r.nowNs(clock);
        expect(v).toBeGreaterThan(0n);
      }
      cs.advanceNs(rng.int(4_000_000, 6_000_000)); // every tick publishes core and aux
      k.tick();
      for (const c of [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_AUX]) expect(Atomics.load(u32, seqAt(k, c) >> 2) & 1, `seq of ${c} after the tick`).toBe(0);
      for (const c of CLOCKS) {
        const v = r.nowNs(c);
        expect(v, `clock ${c}`).toBeGreaterThan(0n);
        if (c !== CLOCK_REALTIME && c !== CLOCK_REALTIME_COARSE) expect(v >= (prev.get(c) ?? 0n), `clock ${c} backward`).toBe(true);
        prev.set(c, v);
      }
      const st = r.status();
      expect(st.writer).toBe("running");
      expect(st.degraded).toBe(false);
    }
    expect(strayOdd).toBeGreaterThan(0);
    expect(r.status().giveUps).toBeLessThanOrEqual(strayOdd);
    expect(r.status().giveUps).toBeGreaterThan(0);
  });
});

describe("a writer paused mid-update (for a virtual second)", () => {
  for (const clock of [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_AUX]) {
    it(`${clock === CLOCK_AUX ? "aux 0" : clock === CLOCK_MONOTONIC ? "clock_data[0]" : "clock_data[1]"}: one give-up per reader, then the fallback carries time on exactly; no backward read when it resumes`, async () => {
      const { cs, k, reader, hardware } = await virtualStore();
      const readers = await Promise.all([reader(), reader(), reader()]);
      const before = readers.map((r) => r.nowNs(clock));
      // Pause inside the publication of `clock`: aux 0 is published by clockAdjtime, the core by adjtimex.
      const p = pauseAt(k.store, clock === CLOCK_AUX ? 4 : clock === CLOCK_MONOTONIC ? 3 : 4, hardware);
      cs.advanceNs(1_000_000);
      if (clock === CLOCK_AUX) k.clockAdjtime(CLOCK_AUX, { modes: 0x0002, freq: 100n << 16n });
      else k.adjtimex({ modes: 0x0002, freq: 100n << 16n });
      expect(p.paused).toBe(true);
      expect(new Uint32Array(k.memory.buffer)[seqAt(k, clock) >> 2] & 1).toBe(1);
      // A second of counter passes while the writer is paused; readers read all along.
      const last = [...before];
      for (let step = 0; step < 100; step++) {
        cs.advanceNs(10_000_000);
        readers.forEach((r, i) => {
          for (let j = 0; j < 5; j++) {
            const v = r.nowNs(clock);
            expect(v >= last[i]).toBe(true);
            last[i] = v;
          }
        });
      }
      for (const [i, r] of readers.entries()) {
        const st = r.status();
        expect(st.giveUps).toBe(1);
        expect(st.waits).toBe(1);
        expect(st.writer).toBe("stuck");
        expect(st.degraded).toBe(true);
        // Carried forward with the counter: the last consistent state plus 1.001 s, to the ns (no NTP change landed yet).
        expect(last[i] - before[i]).toBe(1_001_000_000n);
      }
      p.resume();
      expect(new Uint32Array(k.memory.buffer)[seqAt(k, clock) >> 2] & 1).toBe(0);
      cs.advanceNs(4_000_000);
      k.tick();
      for (const [i, r] of readers.entries()) {
        for (let j = 0; j < 10; j++) {
          const v = r.nowNs(clock);
          expect(v >= last[i]).toBe(true);
          last[i] = v;
        }
        const st = r.status();
        expect(st.giveUps).toBe(1);
        expect(st.writer).toBe("running");
        expect(st.degraded).toBe(false);
      }
    });
  }
});

/**
 * Reads every clock of `r`, checking each is a time and the monotonic family
 * does not go back. `auxErrors`: count an aux error there instead of failing
 * (the restart window of a known gap).
 */
function readAll(r: Reader, prev: Map<number, bigint>, auxErrors?: { n: number }) {
  for (const c of CLOCKS) {
    const res = r.clockGettime(c);
    if (auxErrors && c === CLOCK_AUX && res.ret !== 0) {
      auxErrors.n++;
      continue;
    }
    expect(res.ret, `clock ${c}`).toBe(0);
    const v = res.ts!.sec * 1_000_000_000n + res.ts!.nsec;
    if (MONO_FAMILY.includes(c)) expect(v >= (prev.get(c) ?? 0n), `clock ${c} went back`).toBe(true);
    prev.set(c, v);
  }
}

describe("close", () => {
  it("Kernel.close twice, closeAbandoned after it: readers (page and kernel) keep increasing times, status closed and degraded, no give-up", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    k.auxClockEnable(0, true);
    const page = await createReader({ memory, view: k.rootView() });
    const own = await createReader(k);
    const pp = new Map<number, bigint>();
    const op = new Map<number, bigint>();
    readAll(page, pp);
    readAll(own, op);
    k.close();
    k.close();
    closeAbandoned(memory);
    expect(k.isClosed).toBe(true);
    expect(() => k.tick()).toThrow(/closed/);
    expect(() => k.adjtimex({ modes: 0 })).toThrow(/closed/);
    const first = pp.get(CLOCK_MONOTONIC)!;
    for (let i = 0; i < 200; i++) {
      readAll(page, pp);
      readAll(own, op);
    }
    expect(pp.get(CLOCK_MONOTONIC)! > first).toBe(true);
    for (const r of [page, own]) {
      const st = r.status();
      expect(st.writer).toBe("closed");
      expect(st.degraded).toBe(true);
      expect(st.giveUps).toBe(0);
    }
    // A closed store is adopted and time goes on.
    const k2 = await Kernel.create({ memory, counter: "host-call", adopt: true });
    readAll(page, pp);
    expect(page.status().writer).toBe("running");
    k2.close();
  });

  it("close in the middle of a read loop: no read fails or goes back", async () => {
    const { cs, k, reader } = await virtualStore();
    const rs = await Promise.all([reader(), reader()]);
    const prev = rs.map(() => new Map<number, bigint>());
    for (let i = 0; i < 100; i++) {
      if (i === 50) k.close();
      if (i < 50) {
        cs.advanceNs(4_000_000);
        k.tick();
      } else cs.advanceNs(4_000_000); // the counter runs on without a writer
      rs.forEach((r, j) => readAll(r, prev[j]));
    }
    // Closed: carried forward with the counter: 50 ticks of 4 ms after the close.
    expect(rs[0].status().writer).toBe("closed");
  });

  it("KernelWorker.close twice (both resolve), calls after close reject at once, readers in this thread keep going while it closes", async () => {
    const kw = await KernelWorker.start({ counter: "host-call", hz: 500 });
    await kw.call("auxClockEnable", 0, true);
    const r = await createReader(kw);
    const prev = new Map<number, bigint>();
    readAll(r, prev);
    const inflight = kw.call("sysClockGettime", CLOCK_MONOTONIC).then(() => "resolved", () => "rejected");
    const c1 = kw.close();
    const c2 = kw.close();
    let settled = false;
    void Promise.all([c1, c2]).then(() => (settled = true));
    let reads = 0;
    while (!settled) {
      readAll(r, prev);
      reads++;
      await new Promise((res) => setImmediate(res));
    }
    await expect(c1).resolves.toBeUndefined();
    await expect(c2).resolves.toBeUndefined();
    expect(["resolved", "rejected"]).toContain(await inflight);
    expect(reads).toBeGreaterThan(0);
    expect(kw.running).toBe(false);
    // Rejected before any other task runs: nothing was sent.
    let rejected = false;
    kw.call("tick").catch(() => (rejected = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(rejected).toBe(true);
    await expect(kw.call("sysClockGettime", CLOCK_MONOTONIC)).rejects.toThrow(/closed/);
    for (let i = 0; i < 100; i++) readAll(r, prev);
    const st = r.status();
    expect(st.writer).toBe("closed");
    expect(st.degraded).toBe(true);
    await kw.close(); // a third time
  });
});

describe("real KernelWorker kills with restart", () => {
  // Each restart spawns a worker that loads the source through tsx: seconds on a loaded 2-core machine.
  it("5 terminations: no error to a reader, no backward read, onStop/onRestart each time, calls reject while stopped and work after", { timeout: 180_000 }, async () => {
    const stops: Error[] = [];
    let restarts = 0;
    let restarted: () => void = () => {};
    let stopped: () => void = () => {};
    const kw = await KernelWorker.start({
      counter: "host-call", hz: 1000, restart: true,
      onStop: (e) => {
        stops.push(e);
        stopped();
      },
      onRestart: () => {
        restarts++;
        restarted();
      },
    });
    try {
      await kw.call("auxClockEnable", 0, true);
      const readers = await Promise.all([createReader(kw), createReader(kw)]);
      const prev = readers.map(() => new Map<number, bigint>());
      // Before 5c71827 a restarted kernel copied its shadow before republishing the aux clocks: the aux clock answered ENOSYS meanwhile.
      const restartAuxErrors = { n: 0 };
      const readSome = (aux?: { n: number }) => readers.forEach((r, i) => readAll(r, prev[i], aux));
      const readUntil = async (p: Promise<unknown>, aux?: { n: number }) => {
        let done = false;
        void p.then(() => (done = true));
        while (!done) {
          readSome(aux);
          await new Promise((res) => setImmediate(res));
        }
      };
      for (let kill = 1; kill <= 5; kill++) {
        await readUntil(new Promise((res) => setTimeout(res, 20))); // ticks at 1 kHz: the terminate lands anywhere
        const onStop = new Promise<void>((res) => (stopped = res));
        const onRestart = new Promise<void>((res) => (restarted = res));
        await (kw as unknown as { w: { terminate(): Promise<unknown> } }).w.terminate();
        await readUntil(onStop);
        expect(stops.length).toBe(kill);
        await expect(kw.call("sysClockGettime", CLOCK_MONOTONIC)).rejects.toThrow(/stopped/);
        await readUntil(onRestart, restartAuxErrors);
        expect(restarts).toBe(kill);
        expect(kw.running).toBe(true);
        const t = await kw.call("sysClockGettime", CLOCK_MONOTONIC);
        expect(typeof t).toBe("object");
        // The aux clock is still enabled in the restarted kernel.
        const aux = await kw.call("sysClockGettime", CLOCK_AUX);
        expect(typeof aux).toBe("object");
        readSome();
        for (const r of readers) expect(r.status().writer).toBe("running");
      }
      // Not even the aux clock while a restarted kernel publishes (its shadow copy comes after every clock since 5c71827).
      expect(restartAuxErrors.n).toBe(0);
    } finally {
      await kw.close();
    }
  });
});

// Gaps this suite found, now closed: each was an `it.fails` until its fix.
describe("gaps found by this suite", () => {
  it("a writer dying between the page's write_end and the shadow copy: BOOTTIME does not go back after adoption", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    const r = await createReader({ memory, view: k.rootView() });
    killAt(k.store, 32); // suspend's publish: 31 writes of the page, then the shadow copy
    expect(() => k.suspend(1_000_000_000n)).toThrow(WriterDeath);
    const seen = r.nowNs(CLOCK_BOOTTIME); // the page: complete, suspend applied
    silence(memory);
    await Kernel.create({ memory, counter: "host-call", adopt: true });
    expect(r.nowNs(CLOCK_BOOTTIME) >= seen).toBe(true); // was ~1 s back (adopted from the older shadow)
  });

  it("a reader alternating between two stuck seq words gives up once per word, not once per read", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    const r = await createReader({ memory, view: k.rootView() });
    killAt(k.store, 3); // inside update_vsyscall: clock_data[0] and [1] both odd
    expect(() => k.publish()).toThrow(WriterDeath);
    for (let i = 0; i < 10; i++) {
      r.nowNs(CLOCK_MONOTONIC);
      r.nowNs(CLOCK_MONOTONIC_RAW);
    }
    expect(r.status().giveUps).toBeLessThanOrEqual(2); // was 20 (and 20 waits of ~1 ms)
  });

  it("a writer dying at any write of a publication and its shadow copy, then an adopter dying at any write of its start: AUX0 never goes back", async () => {
    let cases = 0;
    for (let n = 1; n <= 80; n += 3) {
      for (let m = 1; m <= 60; m += 4) {
        const { memory, cs, k, reader, hardware } = await virtualStore();
        const r = await reader();
        cs.advanceNs(50_000_000);
        k.tick();
        killAt(k.store, n, hardware);
        try {
          cs.advanceNs(4_000_000);
          k.tick();
        } catch (e) {
          if (!(e instanceof WriterDeath)) throw e;
        }
        const before = r.nowNs(CLOCK_AUX);
        const kp = killAt(DataStore.prototype, m, hardware);
        silence(memory);
        await Kernel.create({ memory, counter: "virtual", adopt: true }).catch((e) => {
          if (!(e instanceof WriterDeath)) throw e;
        });
        kp.restore();
        const after = r.nowNs(CLOCK_AUX);
        expect(after, `writer killed at ${n}, adopter at ${m}`).toBeGreaterThanOrEqual(before);
        expect(after).toBeGreaterThan(0n);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(300);
  });
});
