// poll_oneoff on the kernel's clocks, exactness by default and the seeded
// random_get, driven directly (no guest compiler needed).
import { describe, expect, it } from "vitest";
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from "../assembly/layout.ts";
import { type VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { bridgeOf, createReader } from "../src/reader.ts";
import { createWasiProvider, wasiImports } from "../src/wasi.ts";

const SUB = 48;
const EV = 32;
const FAULT = 21;
const INVAL = 28;
const ns = (t: { sec: bigint; nsec: bigint } | number) => {
  if (typeof t === "number") throw new Error(`errno ${t}`);
  return t.sec * 1_000_000_000n + t.nsec;
};

type Sub = { userdata: bigint; tag?: number; id?: number; timeout?: bigint; precision?: bigint; flags?: number; fd?: number };
/** Writes subscriptions at 0, leaves room for events at 4096, nevents at 8192. */
function subs(memory: WebAssembly.Memory, list: Sub[]) {
  const d = new DataView(memory.buffer);
  new Uint8Array(memory.buffer, 0, 8200).fill(0);
  list.forEach((s, i) => {
    const o = i * SUB;
    d.setBigUint64(o, s.userdata, true);
    d.setUint8(o + 8, s.tag ?? 0);
    if ((s.tag ?? 0) === 0) {
      d.setUint32(o + 16, s.id ?? 1, true);
      d.setBigUint64(o + 24, s.timeout ?? 0n, true);
      d.setBigUint64(o + 32, s.precision ?? 0n, true);
      d.setUint16(o + 40, s.flags ?? 0, true);
    } else {
      d.setUint32(o + 16, s.fd ?? 0, true);
    }
  });
  return { in: 0, out: 4096, nev: 8192, n: list.length };
}
function events(memory: WebAssembly.Memory) {
  const d = new DataView(memory.buffer);
  const n = d.getUint32(8192, true);
  return Array.from({ length: n }, (_, i) => {
    const o = 4096 + i * EV;
    return { userdata: d.getBigUint64(o, true), error: d.getUint16(o + 8, true), type: d.getUint8(o + 10), nbytes: d.getBigUint64(o + 16, true), flags: d.getUint16(o + 24, true) };
  });
}

async function virtualSetup() {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const k = await Kernel.create({ counter: "virtual", realtime: { sec: 1_700_000_000n, nsec: 0n } });
  const reader = await createReader(k);
  const p = wasiImports({ reader, kernel: k, guestMemory: () => memory });
  return { memory, k, reader, p, cs: k.cs as VirtualClocksource };
}

describe("poll_oneoff on a virtual kernel: sleeps advance the clock, no wall time", () => {
  it("a relative MONOTONIC sleep advances the counter by exactly the timeout, in ticks, and wakes on the deadline", async () => {
    const { memory, k, p, cs } = await virtualSetup();
    const c0 = cs.counter;
    const m0 = ns(k.sysClockGettime(CLOCK_MONOTONIC));
    const a = subs(memory, [{ userdata: 0xdeadbeefcafen, timeout: 10_500_000n }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory)).toEqual([{ userdata: 0xdeadbeefcafen, error: 0, type: 0, nbytes: 0n, flags: 0 }]);
    expect(cs.counter - c0).toBe(10_500_000n);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC)) - m0).toBe(10_500_000n);
    expect(p.stats).toMatchObject({ polls: 1, waits: 0, busyWaits: 0, virtualNs: 10_500_000n, ticks: 3 }); // 4 + 4 + 2.5 ms
  });

  it("ABSTIME on MONOTONIC and REALTIME wake exactly at the deadline; a past deadline fires at once", async () => {
    const { memory, k, p, cs } = await virtualSetup();
    const m = ns(k.sysClockGettime(CLOCK_MONOTONIC));
    let a = subs(memory, [{ userdata: 1n, id: 1, timeout: m + 7_000_000n, flags: 1 }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(m + 7_000_000n);
    const r = ns(k.sysClockGettime(CLOCK_REALTIME));
    a = subs(memory, [{ userdata: 2n, id: 0, timeout: r + 3_000_000n, flags: 1 }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(ns(k.sysClockGettime(CLOCK_REALTIME))).toBe(r + 3_000_000n);
    expect(events(memory)).toMatchObject([{ userdata: 2n, type: 0, error: 0 }]);
    const c = cs.counter;
    a = subs(memory, [{ userdata: 3n, id: 1, timeout: 5n, flags: 1 }]); // long past
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory)).toMatchObject([{ userdata: 3n }]);
    expect(cs.counter).toBe(c);
  });

  it("several clocks: the earliest fires alone; equal deadlines fire together; a CPU-time clock is an event with error inval", async () => {
    const { memory, k, p } = await virtualSetup();
    const m = ns(k.sysClockGettime(CLOCK_MONOTONIC));
    let a = subs(memory, [{ userdata: 1n, timeout: 9_000_000n }, { userdata: 2n, timeout: 2_000_000n }, { userdata: 3n, id: 1, flags: 1, timeout: m + 2_000_000n }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory).map((e) => e.userdata)).toEqual([2n, 3n]);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(m + 2_000_000n);
    const before = ns(k.sysClockGettime(CLOCK_MONOTONIC));
    a = subs(memory, [{ userdata: 7n, id: 2, timeout: 1_000_000n }, { userdata: 8n, timeout: 1_000_000n }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory)).toMatchObject([{ userdata: 7n, error: INVAL, type: 0 }]);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(before); // nothing slept
  });

  it("bad calls: no subscriptions is inval, an unknown tag is inval, ranges outside memory are fault", async () => {
    const { memory, p } = await virtualSetup();
    const a = subs(memory, [{ userdata: 1n, timeout: 1n }]);
    expect(p.imports.poll_oneoff(a.in, a.out, 0, a.nev)).toBe(INVAL);
    expect(p.imports.poll_oneoff(65536 - 40, a.out, 1, a.nev)).toBe(FAULT);
    expect(p.imports.poll_oneoff(a.in, 65536 - 16, 1, a.nev)).toBe(FAULT);
    expect(p.imports.poll_oneoff(a.in, a.out, 1, 65536 - 2)).toBe(FAULT);
    expect(p.imports.poll_oneoff(a.in, a.out, 0x7fffffff, a.nev)).toBe(FAULT);
    new DataView(memory.buffer).setUint8(8, 9);
    expect(p.imports.poll_oneoff(a.in, a.out, 1, a.nev)).toBe(INVAL);
  });

  it("a sleep of 40,001 s (11 h) wakes exactly at its deadline, tickless before its last second; one past KTIME_MAX is overflow at once", async () => {
    const { memory, k, reader, p } = await virtualSetup();
    const SEC = 1_000_000_000n;
    const [m0, r0] = [CLOCK_MONOTONIC, CLOCK_REALTIME].map((c) => ns(k.sysClockGettime(c)));
    let a = subs(memory, [{ userdata: 1n, timeout: 40_001n * SEC + 5n }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0); // threw past ~40,000 s (10^7 ticks)
    expect(events(memory)).toMatchObject([{ userdata: 1n, error: 0, type: 0 }]);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC)) - m0).toBe(40_001n * SEC + 5n);
    expect(ns(k.sysClockGettime(CLOCK_REALTIME)) - r0).toBe(40_001n * SEC + 5n);
    for (const c of [CLOCK_MONOTONIC, CLOCK_REALTIME]) expect(reader.nowNs(c)).toBe(ns(k.sysClockGettime(c)));
    expect(p.stats.ticks).toBeGreaterThanOrEqual(250); // the last second a tick at a time
    expect(p.stats.ticks).toBeLessThan(400); // before it, idle steps of ~880 s
    // A deadline no clock reaches (past KTIME_MAX ns): overflow (61) at once, time not moved.
    const m1 = ns(k.sysClockGettime(CLOCK_MONOTONIC));
    for (const sub of [{ timeout: 2n ** 64n - 1n }, { timeout: 2n ** 63n, flags: 1 }, { id: 0, timeout: 2n ** 64n - 1n, flags: 1 }]) {
      a = subs(memory, [{ userdata: 2n, ...sub }]);
      expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
      expect(events(memory)).toMatchObject([{ userdata: 2n, error: 61, type: 0 }]);
    }
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(m1);
    // beside a reachable one it fires alone, at once, like any subscription with an error
    a = subs(memory, [{ userdata: 3n, timeout: 2n ** 64n - 1n }, { userdata: 4n, timeout: 2n * SEC }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory).map((e) => [e.userdata, e.error])).toEqual([[3n, 61]]);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC))).toBe(m1);
  });

  it("a reader of a virtual clock needs its kernel; a kernel must be the reader's", async () => {
    const k = await Kernel.create({ counter: "virtual" });
    const reader = await createReader(k);
    const other = await Kernel.create({ counter: "virtual" });
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(() => wasiImports({ reader, guestMemory: () => memory })).toThrow(/virtual: pass its kernel/);
    expect(() => wasiImports({ reader, kernel: other, guestMemory: () => memory })).toThrow(/reader's kernel/);
  });
});

describe("poll_oneoff in real time: the thread blocks until the kernel clock passes the deadline", () => {
  it("relative and ABSTIME sleeps on an exact kernel: woken at or after the deadline, by Atomics.wait", async () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const k = await Kernel.create({ counter: "host-call" });
    const reader = await createReader(k);
    const p = wasiImports({ reader, kernel: k, guestMemory: () => memory });
    for (const [id, abs] of [[1, false], [0, false], [1, true], [0, true]] as const) {
      const clock = abs ? id : CLOCK_MONOTONIC;
      const now = ns(k.sysClockGettime(clock));
      const deadline = now + 3_000_000n;
      const a = subs(memory, [{ userdata: 5n, id, timeout: abs ? deadline : 3_000_000n, flags: abs ? 1 : 0 }]);
      expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
      expect(ns(k.sysClockGettime(clock)) >= deadline, `clock ${id} abstime ${abs}`).toBe(true);
      expect(events(memory)).toMatchObject([{ userdata: 5n, error: 0, type: 0 }]);
    }
    expect(p.stats.waits).toBeGreaterThan(0);
    k.close();
  });

  it("where blocking is not wanted (busyWait, as on a browser's main thread) it spins: no Atomics.wait", async () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const k = await Kernel.create({ counter: "host-call" });
    const reader = await createReader(k);
    const p = wasiImports({ reader, kernel: k, guestMemory: () => memory, busyWait: true });
    const deadline = ns(k.sysClockGettime(CLOCK_MONOTONIC)) + 2_000_000n;
    const a = subs(memory, [{ userdata: 1n, timeout: 2_000_000n }]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(ns(k.sysClockGettime(CLOCK_MONOTONIC)) >= deadline).toBe(true);
    expect(p.stats).toMatchObject({ waits: 0, busyWaits: 1 });
    k.close();
  });
});

describe("mixed subscriptions: fds go to the runtime's poll_oneoff", () => {
  it("the runtime sees the fd subscriptions and one MONOTONIC timeout; the guest's array is restored; events merge", async () => {
    const { memory, k, cs } = await virtualSetup();
    const seen: Array<{ n: number; subs: Uint8Array }> = [];
    let ready = false;
    const runtime = {
      fd_write: () => 0,
      poll_oneoff(inp: number, out: number, n: number, nev: number) {
        seen.push({ n, subs: new Uint8Array(memory.buffer, inp, n * SUB).slice() });
        const d = new DataView(memory.buffer);
        let k2 = 0;
        for (let i = 0; i < n; i++) {
          const tag = d.getUint8(inp + i * SUB + 8);
          if (tag === 0 || ready) {
            new Uint8Array(memory.buffer, out + k2 * EV, EV).fill(0);
            d.setBigUint64(out + k2 * EV, d.getBigUint64(inp + i * SUB, true), true);
            d.setUint8(out + k2 * EV + 10, tag);
            if (tag !== 0) d.setBigUint64(out + k2 * EV + 16, 42n, true);
            k2++;
          }
        }
        d.setUint32(nev, k2, true);
        return 0;
      },
    };
    const reader = await createReader(k);
    const p = wasiImports({ reader, kernel: k, guestMemory: () => memory, runtime });
    expect(p.imports.fd_write).toBe(runtime.fd_write); // the runtime's imports, ours on top
    const list: Sub[] = [{ userdata: 10n, timeout: 6_000_000n }, { userdata: 11n, tag: 1, fd: 0 }, { userdata: 12n, tag: 2, fd: 1 }];
    let a = subs(memory, list);
    const original = new Uint8Array(memory.buffer, 0, 3 * SUB).slice();
    // fds not ready: polled once without waiting, then virtual time runs to the clock's deadline
    const c0 = cs.counter;
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory)).toMatchObject([{ userdata: 10n, type: 0 }]);
    expect(cs.counter - c0).toBe(6_000_000n);
    expect(seen[0].n).toBe(3);
    const s = new DataView(seen[0].subs.buffer);
    expect([s.getBigUint64(0, true), s.getUint8(8), s.getBigUint64(SUB, true), s.getUint8(SUB + 8)]).toEqual([11n, 1, 12n, 2]);
    expect([s.getUint8(2 * SUB + 8), s.getUint32(2 * SUB + 16, true), s.getBigUint64(2 * SUB + 24, true)]).toEqual([0, 1, 20_000_000n]); // MONOTONIC, a 20 ms look (an fd that is ready returns at once)
    expect(new Uint8Array(memory.buffer, 0, 3 * SUB)).toEqual(original);
    // fds ready: their events, no sleep
    ready = true;
    a = subs(memory, list);
    const c1 = cs.counter;
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(events(memory)).toMatchObject([{ userdata: 11n, type: 1, nbytes: 42n }, { userdata: 12n, type: 2 }]);
    expect(cs.counter).toBe(c1);
    // fds alone: the runtime's call, untouched
    a = subs(memory, [list[1]]);
    expect(p.imports.poll_oneoff(a.in, a.out, a.n, a.nev)).toBe(0);
    expect(seen.at(-1)!.n).toBe(1);
    expect(p.stats.runtimePolls).toBe(3);
  });
});

describe("exact by default", () => {
  it("a shared-counter reader is refused unless coarse: true; host-call and virtual readers are fine", async () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const shared = await Kernel.create({ counter: "shared" });
    try {
      const r = await createReader(shared);
      expect(() => wasiImports({ reader: r, guestMemory: () => memory })).toThrow(/coarser than the host's/);
      const p = wasiImports({ reader: r, guestMemory: () => memory, coarse: true });
      expect(p.resolutionNs).toBeGreaterThan(1000);
    } finally {
      shared.close();
    }
    const exact = await Kernel.create({ counter: "host-call" });
    expect(wasiImports({ reader: await createReader(exact), guestMemory: () => memory }).resolutionNs).toBe(1);
  });

  it("createWasiProvider(): exact (1 ns in Node) by default, 'fast' is the coarse shared counter, precision >= 4 ms still gets COARSE", async () => {
    let memory: WebAssembly.Memory | undefined = new WebAssembly.Memory({ initial: 1 });
    const p = await createWasiProvider({ guestMemory: () => memory! });
    try {
      expect(p.resolutionNs).toBeLessThanOrEqual(1000);
      expect(p.imports.clock_res_get(1, 0)).toBe(0);
      expect(new DataView(memory.buffer).getBigUint64(0, true)).toBeLessThanOrEqual(1000n);
      p.kernel.tick();
      expect(p.imports.clock_time_get(1, 4_000_000n, 8)).toBe(0);
      const coarse = new DataView(memory.buffer).getBigUint64(8, true);
      expect(coarse).toBe(ns(p.kernel.sysClockGettime(6 /* MONOTONIC_COARSE */)));
    } finally {
      p.close();
    }
    const f = await createWasiProvider({ clock: "fast", guestMemory: () => memory! });
    try {
      expect(f.resolutionNs).toBeGreaterThan(1000);
    } finally {
      f.close();
    }
    memory = undefined;
  });
});

describe("seeded random_get (insecureRandomSeed): deterministic, never the host's", () => {
  const draw = async (seed: bigint | string | undefined, reseed = false) => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const k = await Kernel.create({ counter: "virtual" });
    const reader = await createReader(k);
    const p = wasiImports({ reader, kernel: k, guestMemory: () => memory, insecureRandomSeed: seed });
    const out: string[] = [];
    for (const len of [16, 1000, 3]) {
      expect(p.imports.random_get(0, len)).toBe(0);
      out.push(Buffer.from(new Uint8Array(memory.buffer, 0, len)).toString("hex"));
      if (reseed) k.rng.reseed();
    }
    return { out: out.join(" "), hostCalls: bridgeOf(reader).hostRandomCalls };
  };
  it("same seed, same bytes (across rng reseeds too); another seed, other bytes; no host random at all", async () => {
    const a = await draw(42n);
    const b = await draw(42n);
    expect(b.out).toBe(a.out);
    expect(a.hostCalls).toBe(0);
    expect((await draw(43n)).out).not.toBe(a.out);
    expect((await draw("42")).out).not.toBe(a.out);
    const r1 = await draw(7n, true);
    const r2 = await draw(7n, true);
    expect(r2.out).toBe(r1.out);
    expect(r1.hostCalls).toBe(0);
    const unseeded = await draw(undefined);
    expect(unseeded.hostCalls).toBe(1); // the default: one key from crypto per generation
  });
});

describe("a clock that cannot be read", () => {
  it("a poll on a closed reader's clock returns at once with an error event, never waits forever", async () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const p = await createWasiProvider({ guestMemory: () => memory });
    p.reader.close(); // now() answers -EFAULT from here on
    const d = new DataView(memory.buffer);
    // One relative MONOTONIC subscription of 1 ms at 0; the event at 100; nevents at 200.
    d.setBigUint64(0, 7n, true);
    d.setUint8(8, 0);
    d.setUint32(16, 1, true);
    d.setBigUint64(24, 1_000_000n, true);
    d.setBigUint64(32, 0n, true);
    d.setUint16(40, 0, true);
    const poll = (p.imports as unknown as { poll_oneoff(a: number, b: number, n: number, e: number): number }).poll_oneoff;
    expect(poll(0, 100, 1, 200)).toBe(0);
    expect(d.getUint32(200, true)).toBe(1);
    expect(d.getBigUint64(100, true)).toBe(7n);
    expect(d.getUint16(108, true)).not.toBe(0); // the event carries an error
    p.kernel.close();
  });
});
