// One writer per store: the claim is a fencing token (a fenced writer never
// writes again, its calls throw), a live kernel heartbeats ticking or not,
// adopters race safely in real threads, a failed create gives its claim back,
// and an adoption (a KernelWorker restart) sends no clock back.
import { describe, expect, it } from "vitest";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_TAI, vdso_arch_data, vdso_clock, vdso_pages,
  vdso_time_data, vdso_timestamp, writer_state,
} from "../assembly/layout.ts";
import { archPage, storeMemory } from "../src/datastore.ts";
import { SETTLE_MS, STALE_AFTER_MS } from "../src/kernel/adopt.ts";
import { type Clocksource, hostClocksource, VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { ADJ_FREQUENCY } from "../src/kernel/timex.ts";
import { lastConsistent } from "../src/pageclock.ts";
import { createReader, type Reader } from "../src/reader.ts";
import { KernelWorker } from "../src/workers/kernel.ts";
import { spawn } from "../src/workers/spawn.ts";
import { silence, WRITES } from "./helpers/faults.ts";
import { EPOCH } from "./helpers/kernel.ts";

const ADOPTED = /adopted by another kernel/;
const words = (m: WebAssembly.Memory) => ({ u32: new Uint32Array(m.buffer), i32: new Int32Array(m.buffer) });
const claimOf = (m: WebAssembly.Memory) => Atomics.load(words(m).u32, (archPage() + vdso_arch_data.writer) >> 2);
const stateOf = (m: WebAssembly.Memory) => Atomics.load(words(m).i32, (archPage() + vdso_arch_data.state) >> 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

/** Reads `clocks` of `r` on every call and records each step back. */
function monotonic(r: Reader, clocks: number[]) {
  const prev = new Map<number, bigint>();
  const back: string[] = [];
  let reads = 0;
  const read = () => {
    for (const c of clocks) {
      const v = r.nowNs(c);
      const p = prev.get(c);
      if (p !== undefined && v < p) back.push(`clock ${c}: ${p - v} ns back`);
      prev.set(c, v);
      reads++;
    }
  };
  return {
    read,
    back,
    get reads() {
      return reads;
    },
  };
}

describe("concurrent adopters", () => {
  it("two threads adopting one closed store at the same instant, 30 rounds: exactly one wins each, the other gets a clear error, MONOTONIC never goes back", { timeout: 120_000 }, async () => {
    const memory = storeMemory(true);
    const k0 = await Kernel.create({ memory, counter: "host-call" });
    const r = await createReader({ memory, view: k0.rootView() });
    const m = monotonic(r, [CLOCK_MONOTONIC, CLOCK_REALTIME]);
    k0.close();
    const ctrl = new SharedArrayBuffer(8);
    const go = new Int32Array(ctrl);
    const workers = await Promise.all([0, 1].map(() => spawn(new URL("./helpers/adopter.ts", import.meta.url), { memory, ctrl })));
    const inbox: Record<string, unknown>[][] = [[], []];
    workers.forEach((w, i) => w.onMessage((msg) => inbox[i].push(msg as Record<string, unknown>)));
    const next = async (i: number, pick: (msg: Record<string, unknown>) => boolean) => {
      for (;;) {
        const j = inbox[i].findIndex(pick);
        if (j >= 0) return inbox[i].splice(j, 1)[0];
        m.read();
        await turn();
      }
    };
    try {
      await Promise.all([0, 1].map((i) => next(i, (x) => x.ready === true)));
      const errors: string[] = [];
      let token = claimOf(memory);
      const wins = [0, 0];
      for (let round = 1; round <= 30; round++) {
        workers.forEach((w) => w.postMessage({ round }));
        while (Atomics.load(go, 1) < 2 * round) {
          m.read();
          await turn();
        }
        Atomics.store(go, 0, round);
        Atomics.notify(go, 0); // both adopters spin on it: they leave together
        const res = await Promise.all([0, 1].map((i) => next(i, (x) => x.round === round)));
        const w = res.findIndex((x) => x.won === true);
        expect(res.filter((x) => x.won === true).length, JSON.stringify(res)).toBe(1);
        errors.push(String(res[1 - w].error));
        wins[w]++;
        expect(res[w].token).toBe(token + 1); // the claim moved on by exactly one
        token = res[w].token as number;
        expect(claimOf(memory)).toBe(token);
        for (let i = 0; i < 20; i++) {
          m.read();
          await sleep(1);
        }
        expect(stateOf(memory)).toBe(writer_state.RUNNING);
        // "stuck" while a reader waits out a publication the loaded machine paused midway: running once it is through.
        for (let i = 0; i < 500 && r.status().writer !== "running"; i++) await sleep(2);
        expect(r.status().writer).toBe("running");
        workers[w].postMessage({ close: true });
        await next(w, (x) => x.closed === true);
        expect(stateOf(memory)).toBe(writer_state.CLOSED);
      }
      for (const e of errors) expect(e).toMatch(/another kernel took this store first|writer is live/);
      expect(m.back).toEqual([]);
      expect(m.reads).toBeGreaterThan(100);
      console.log(`adopters: wins ${wins.join("/")}; losers' errors: ${[...new Set(errors)].map((e) => `${errors.filter((x) => x === e).length}x "${e}"`).join(", ")}`);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});

describe("a live writer is not adopted", () => {
  it("a ticking KernelWorker: adoptAfterMs 0 is a RangeError naming it, 500 finds it live; it keeps its store and publishing", async () => {
    const kw = await KernelWorker.start({ counter: "host-call" });
    try {
      const token = claimOf(kw.memory);
      const r = await createReader(kw);
      const p0 = r.status().publications;
      const zero = Kernel.create({ memory: kw.memory, counter: "host-call", adopt: true, adoptAfterMs: 0 });
      await expect(zero).rejects.toThrow(RangeError);
      await expect(zero).rejects.toThrow(/adoptAfterMs must be a finite number of at least 500/);
      await expect(Kernel.create({ memory: kw.memory, counter: "host-call", adopt: true, adoptAfterMs: Infinity })).rejects.toThrow(/adoptAfterMs must be a finite number/);
      await expect(Kernel.create({ memory: kw.memory, counter: "host-call", adopt: true, adoptAfterMs: "1000" as unknown as number })).rejects.toThrow(/adoptAfterMs must be a number, not string/);
      await expect(Kernel.create({ memory: kw.memory, counter: "host-call", adopt: true, adoptAfterMs: 500 })).rejects.toThrow(/writer is live/);
      await sleep(50);
      expect(claimOf(kw.memory)).toBe(token);
      expect(r.status().publications).toBeGreaterThan(p0 + 5n); // it still ticks (250 Hz)
      expect(typeof (await kw.call("sysClockGettime", CLOCK_MONOTONIC))).toBe("object");
    } finally {
      await kw.close();
    }
  });

  it("a KernelWorker that stopped ticking, a kernel here that stopped ticking and an idle virtual kernel heartbeat: none is adopted after the default silence; with its heartbeat stopped, one is (control)", async () => {
    const kw = await KernelWorker.start({ counter: "host-call" });
    try {
      await kw.call("stopTicking");
      const here = await Kernel.create({ memory: storeMemory(true), counter: "host-call" });
      here.startTicking();
      here.stopTicking();
      const idle = await Kernel.create({ memory: storeMemory(true), counter: "virtual" });
      const dead = await Kernel.create({ memory: storeMemory(true), counter: "virtual" });
      (dead as unknown as { heart: { stop(): void } }).heart.stop(); // as if its thread had died
      await sleep(STALE_AFTER_MS + 300);
      await expect(Kernel.create({ memory: kw.memory, counter: "host-call", adopt: true })).rejects.toThrow(/writer is live/);
      await expect(Kernel.create({ memory: here.memory, counter: "host-call", adopt: true })).rejects.toThrow(/writer is live/);
      await expect(Kernel.create({ memory: idle.memory, counter: "virtual", adopt: true })).rejects.toThrow(/writer is live/);
      expect(typeof (await kw.call("sysClockGettime", CLOCK_MONOTONIC))).toBe("object");
      here.tick();
      idle.tick();
      const k2 = await Kernel.create({ memory: dead.memory, counter: "virtual", adopt: true });
      expect(() => dead.tick()).toThrow(ADOPTED);
      for (const k of [here, idle, k2]) k.close();
    } finally {
      await kw.close();
    }
  });
});

describe("a writer fenced by adoption", () => {
  it("in this thread: never writes again (counted), MONOTONIC and REALTIME never go back while both exist, every call throws the adopted message, onFenced once, close() leaves the adopter's store alone", async () => {
    const memory = storeMemory(true);
    const k1 = await Kernel.create({ memory, counter: "host-call" });
    k1.auxClockEnable(0, true);
    k1.adjtimex({ modes: ADJ_FREQUENCY, freq: 5n << 16n });
    const why: Error[] = [];
    k1.onFenced = (e) => why.push(e);
    k1.startTicking(1000);
    const r = await createReader({ memory, view: k1.rootView() });
    const m = monotonic(r, [CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_AUX]);
    let writes = 0;
    const t = k1.store as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of WRITES) {
      const orig = t[name];
      t[name] = function (this: unknown, ...a: unknown[]) {
        writes++;
        return orig.apply(this, a);
      };
    }
    await sleep(20);
    expect(writes).toBeGreaterThan(0); // the count sees a live writer (control)
    // Its thread stalls past adoptAfterMs (its heartbeat aged; nothing of it runs until the claim is won).
    silence(memory);
    const adopting = Kernel.create({ memory, counter: "host-call", adopt: true });
    const atAdoption = writes;
    const k2 = await adopting;
    k2.startTicking(1000);
    const end = Date.now() + 500; // k1's timers come back meanwhile
    while (Date.now() < end) {
      for (let i = 0; i < 50; i++) m.read();
      await sleep(1);
    }
    expect(m.back).toEqual([]);
    expect(writes).toBe(atAdoption);
    expect(why.length).toBe(1);
    expect(why[0].message).toMatch(ADOPTED);
    const calls: [string, () => unknown][] = [
      ["tick", () => k1.tick()], ["publish", () => k1.publish()], ["adjtimex", () => k1.adjtimex({ modes: 0 })],
      ["clockSettime", () => k1.clockSettime(CLOCK_REALTIME, EPOCH)], ["startTicking", () => k1.startTicking()],
      ["auxClockEnable", () => k1.auxClockEnable(1, true)], ["suspend", () => k1.suspend(1n)], ["createTimeNamespace", () => k1.createTimeNamespace()],
      ["sysClockGettime", () => k1.sysClockGettime(CLOCK_MONOTONIC)], ["sysGettimeofday", () => k1.sysGettimeofday()],
    ];
    for (const [name, call] of calls) expect(call, name).toThrow(ADOPTED);
    k1.close();
    expect(writes).toBe(atAdoption);
    m.read();
    expect(stateOf(memory)).toBe(writer_state.RUNNING);
    expect(r.status().writer).toBe("running");
    expect(claimOf(memory)).toBe(k2.store.token);
    k2.close();
  });

  it("a KernelWorker (shared counter, restart on): onStop says its store was adopted, calls reject so, no restart, readers never see time go back, close() leaves the adopter running", { timeout: 60_000 }, async () => {
    const stops: Error[] = [];
    let restarts = 0;
    const kw = await KernelWorker.start({ counter: "shared", restart: true, onStop: (e) => stops.push(e), onRestart: () => restarts++ });
    let k2: Kernel | undefined;
    try {
      const r = await createReader(kw);
      const m = monotonic(r, [CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME]);
      for (let i = 0; i < 20; i++) {
        m.read();
        await sleep(1);
      }
      // The worker's thread "stalls" (its heartbeat aged); it ticks at 250 Hz, so an attempt can find it live: try again.
      for (let i = 0; i < 50 && !k2; i++) {
        silence(kw.memory);
        k2 = await Kernel.create({ memory: kw.memory, counter: "shared", adopt: true }).catch((e: Error) => {
          if (!/writer is live/.test(e.message)) throw e;
          return undefined;
        });
        if (!k2) await sleep(3);
      }
      expect(k2).toBeDefined();
      k2!.startTicking();
      const until = Date.now() + 10_000; // it finds out at its next tick or heartbeat
      while (stops.length === 0 && Date.now() < until) {
        m.read();
        await sleep(1);
      }
      expect(stops.length).toBe(1);
      expect(stops[0].message).toMatch(ADOPTED);
      expect(kw.running).toBe(false);
      await expect(kw.call("sysClockGettime", CLOCK_MONOTONIC)).rejects.toThrow(ADOPTED);
      const end = Date.now() + 300;
      while (Date.now() < end) {
        m.read();
        await sleep(1);
      }
      expect(restarts).toBe(0);
      await kw.close();
      m.read();
      expect(m.back).toEqual([]);
      expect(stateOf(kw.memory)).toBe(writer_state.RUNNING);
      expect(claimOf(kw.memory)).toBe(k2!.store.token);
      expect(r.status().writer).toBe("running");
    } finally {
      await kw.close();
      k2?.close();
    }
  });

  it("a seq left odd by someone else (as a fenced writer's last begin leaves it) on a block rarely published is moved on at the next heartbeat", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    const seq = (k.store.time + vdso_time_data.aux_clock_data + 3 * vdso_clock.SIZE + vdso_clock.seq) >> 2; // aux 3: disabled, never ticked
    const u32 = words(memory).u32;
    const before = Atomics.load(u32, seq);
    Atomics.add(u32, seq, 1);
    await sleep(3 * 100);
    expect(Atomics.load(u32, seq) & 1).toBe(0);
    expect(Atomics.load(u32, seq)).toBeGreaterThan(before + 1);
    k.close();
  });

  it("an adopter waits for the block the old writer is inside, and continues from it; a block that never finishes (a dead writer) costs SETTLE_MS, then the shadow", async () => {
    for (const finishes of [true, false]) {
      const memory = storeMemory(true);
      const cs = new VirtualClocksource();
      const k1 = await Kernel.create({ memory, clocksource: cs, realtime: EPOCH });
      cs.advanceNs(5_000_000);
      k1.tick();
      // The old writer is inside clock_data[0] (seq odd): it finishes 5 ms later with REALTIME stepped by a second, or never.
      const vc = k1.store.time + vdso_time_data.clock_data;
      const u32 = words(memory).u32;
      Atomics.add(u32, (vc + vdso_clock.seq) >> 2, 1);
      if (finishes) {
        setTimeout(() => {
          const sec = new BigUint64Array(memory.buffer);
          const at = (vc + vdso_clock.basetime + CLOCK_REALTIME * vdso_timestamp.SIZE + vdso_timestamp.sec) >> 3;
          sec[at] += 1n;
          Atomics.add(u32, (vc + vdso_clock.seq) >> 2, 1);
        }, 5);
      }
      silence(memory);
      const t0 = Date.now();
      const k2 = await Kernel.create({ memory, counter: "virtual", adopt: true });
      const took = Date.now() - t0;
      const rt = k2.sysClockGettime(CLOCK_REALTIME) as { sec: bigint };
      expect(rt.sec, finishes ? "the finished block" : "the shadow").toBe(EPOCH.sec + (finishes ? 1n : 0n));
      if (!finishes) expect(took).toBeGreaterThanOrEqual(SETTLE_MS);
      k2.close();
    }
  });
});

describe("a kernel with another kind of counter", () => {
  it("is refused before the store is touched (a host-call store adopted with a virtual counter stepped MONOTONIC back ~3 ms); the same kind adopts it after", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    k.close();
    const claim = claimOf(memory);
    const before = new Uint8Array(memory.buffer, archPage(), vdso_pages.PAGE_SIZE).slice();
    for (const counter of ["virtual", "shared"] as const) {
      await expect(Kernel.create({ memory, adopt: true, counter })).rejects.toThrow(/written with a host-call counter; adopt it with the same kind \(counter\), not (virtual|shared)/);
    }
    await expect(Kernel.create({ memory, adopt: true, clocksource: new VirtualClocksource() })).rejects.toThrow(/same kind/);
    expect(claimOf(memory)).toBe(claim);
    expect(stateOf(memory)).toBe(writer_state.CLOSED);
    expect(new Uint8Array(memory.buffer, archPage(), vdso_pages.PAGE_SIZE)).toEqual(before);
    const k2 = await Kernel.create({ memory, adopt: true, counter: "host-call" });
    expect(claimOf(memory)).toBe(claim + 1);
    k2.close();
  });
});

describe("a failed create", () => {
  const broken = (when: "attach" | "read"): Clocksource => {
    const h = hostClocksource();
    return {
      ...h, name: "broken",
      read: () => {
        if (when === "read") throw new Error("broken counter");
        return h.read();
      },
      attach: when === "attach" ? () => Promise.reject(new Error("broken counter")) : undefined,
    };
  };
  const storeBytes = (m: WebAssembly.Memory) => new Uint8Array(m.buffer, archPage() - vdso_pages.VDSO_ARCH_PAGES_START * vdso_pages.PAGE_SIZE, vdso_pages.VDSO_NR_PAGES * vdso_pages.PAGE_SIZE);

  it("on a new store (clocksource failing in attach, or at its first read): the claim is given back, no trace left, and the next create gets the store", async () => {
    for (const when of ["attach", "read"] as const) {
      const memory = storeMemory(true);
      await expect(Kernel.create({ memory, clocksource: broken(when) })).rejects.toThrow(/broken counter/);
      expect(claimOf(memory)).toBe(0);
      expect(storeBytes(memory).every((b) => b === 0), when).toBe(true);
      await sleep(3 * 100); // no heartbeat left behind either
      expect(storeBytes(memory).every((b) => b === 0), when).toBe(true);
      const k = await Kernel.create({ memory, counter: "host-call" });
      expect(claimOf(memory)).toBe(1);
      k.close();
    }
  });

  it("on an adopted store: left closed and adoptable, and the next adopter continues every clock", async () => {
    const memory = storeMemory(true);
    const k = await Kernel.create({ memory, counter: "host-call" });
    k.auxClockEnable(0, true);
    const r = await createReader({ memory, view: k.rootView() });
    const m = monotonic(r, [CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_AUX]);
    m.read();
    k.close();
    for (const when of ["attach", "read"] as const) {
      await expect(Kernel.create({ memory, clocksource: broken(when), adopt: true })).rejects.toThrow(/broken counter/);
      expect(stateOf(memory)).toBe(writer_state.CLOSED);
      m.read();
      expect(r.status().writer).toBe("closed");
    }
    const k2 = await Kernel.create({ memory, counter: "host-call", adopt: true });
    m.read();
    expect(r.status().writer).toBe("running");
    expect(m.back).toEqual([]);
    k2.close();
  });
});

describe("no clock back after an adoption", () => {
  it("30 adoptions of a virtual store steered by NTP (mult not 2^shift): at every counter after the switch, each clock of the new page reads at least the old state's, and at most 2 ns more", async () => {
    const memory = storeMemory(true);
    let k = await Kernel.create({ memory, counter: "virtual", realtime: EPOCH });
    k.auxClockEnable(0, true);
    const clocks = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_MONOTONIC_RAW, CLOCK_AUX];
    const counterAt = (archPage() + vdso_arch_data.counter) >> 3;
    let lower = 0;
    let checked = 0;
    let most = 0n;
    for (let i = 0; i < 30; i++) {
      k.adjtimex({ modes: ADJ_FREQUENCY, freq: BigInt(1000 + 37 * i) << 10n });
      k.clockAdjtime(CLOCK_AUX, { modes: ADJ_FREQUENCY, freq: -BigInt(700 + 53 * i) << 10n });
      (k.cs as VirtualClocksource).advanceNs(4_000_000 + 12_345 * i);
      k.tick();
      const word = Atomics.load(new BigUint64Array(memory.buffer), counterAt);
      const before = lastConsistent(memory, k.store.time, k.store.arch)!;
      silence(memory);
      k = await Kernel.create({ memory, counter: "virtual", adopt: true });
      const after = lastConsistent(memory, k.store.time, k.store.arch)!;
      for (let d = 0n; d < 10_000n; d += 13n) {
        for (const c of clocks) {
          const up = after.ns(c, word + d)! - before.ns(c, word + d)!;
          checked++;
          if (up < 0n) lower++;
          if (up > most) most = up;
        }
      }
    }
    expect(checked).toBe(30 * 770 * clocks.length);
    expect(lower).toBe(0);
    expect(most).toBeLessThanOrEqual(2n);
    k.close();
  });

  it("a state whose MONOTONIC sits just below 0 s at its last update (NTP steered right after boot): read as the vDSO reads it, carried forward counting, adopted small", async () => {
    const memory = storeMemory(true);
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ memory, clocksource: cs, realtime: EPOCH });
    const r = await createReader({ memory, view: k.rootView() });
    cs.advanceNs(3_000_000);
    k.adjtimex({ modes: ADJ_FREQUENCY, freq: 500n << 16n }); // xtime at cycle_last moves back to before boot
    const at = k.store.time + vdso_time_data.clock_data + vdso_clock.basetime + CLOCK_MONOTONIC * vdso_timestamp.SIZE + vdso_timestamp.sec;
    expect(new DataView(memory.buffer).getBigInt64(at, true)).toBe(-1n);
    expect(lastConsistent(memory, k.store.time, k.store.arch)!.ns(CLOCK_MONOTONIC, cs.counter)).toBe(r.nowNs(CLOCK_MONOTONIC)); // was 2^64 s more
    k.close();
    // Closed: carried forward with the host's time (the fallback), never frozen at an answer 2^64 s ahead.
    let prev = r.nowNs(CLOCK_MONOTONIC);
    for (let i = 0; i < 5; i++) {
      await sleep(2);
      const v = r.nowNs(CLOCK_MONOTONIC);
      expect(v).toBeGreaterThan(prev);
      prev = v;
    }
    const k2 = await Kernel.create({ memory, counter: "virtual", adopt: true });
    expect((k2.sysClockGettime(CLOCK_MONOTONIC) as { sec: bigint }).sec).toBe(0n);
    expect(r.nowNs(CLOCK_MONOTONIC)).toBeGreaterThanOrEqual(prev);
    k2.close();
  });

  it("KernelWorker restarts (host-call counter, NTP steering core and aux): no clock reads lower than before a restart, REALTIME within 3 ms of Date.now() after each", { timeout: 120_000 }, async () => {
    let restarted: () => void = () => {};
    const kw = await KernelWorker.start({ counter: "host-call", restart: true, onRestart: () => restarted() });
    try {
      await kw.call("auxClockEnable", 0, true);
      await kw.call("adjtimex", { modes: ADJ_FREQUENCY, freq: 3n << 16n });
      await kw.call("clockAdjtime", CLOCK_AUX, { modes: ADJ_FREQUENCY, freq: -(2n << 16n) });
      const r = await createReader(kw);
      const m = monotonic(r, [CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW, CLOCK_AUX, CLOCK_REALTIME]);
      for (let n = 0; n < 3; n++) {
        let done = false;
        void new Promise<void>((res) => (restarted = res)).then(() => (done = true));
        await (kw as unknown as { w: { terminate(): Promise<unknown> } }).w.terminate();
        while (!done) {
          m.read();
          await turn();
        }
        for (let i = 0; i < 2000; i++) m.read();
        const lo = Date.now();
        const rt = r.nowNs(CLOCK_REALTIME);
        const hi = Date.now() + 1; // Date.now() is whole ms
        expect(rt).toBeGreaterThanOrEqual(BigInt(lo - 3) * 1_000_000n);
        expect(rt).toBeLessThanOrEqual(BigInt(hi + 3) * 1_000_000n);
      }
      expect(m.back).toEqual([]);
    } finally {
      await kw.close();
    }
  });
});
