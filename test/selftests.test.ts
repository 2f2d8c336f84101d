// Ports of the Linux selftests (tools/testing/selftests/{timers,vDSO}) to the
// wasm vDSO reading pages written by this kernel side.
import { describe, expect, it, onTestFinished } from "vitest";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID,
  CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, EINVAL, ENODEV, MAX_AUX_CLOCKS,
} from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { createReader } from "../src/reader.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, ADJ_TAI, timex } from "../src/kernel/timex.ts";
import { vdsoNs, virtualKernel } from "./helpers/kernel.ts";

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);
const ns = (r: { sec: bigint; nsec: bigint }) => r.sec * 1_000_000_000n + r.nsec;

describe("timers/auxclock", () => {
  it("getres is 1 ns for every aux clock, enabled or not", async () => {
    const { k, r } = await virtualKernel();
    k.auxClockEnable(3, true);
    for (let n = 0; n < MAX_AUX_CLOCKS; n++) expect(r.clockGetres(CLOCK_AUX + n)).toEqual({ ret: 0, ts: { sec: 0n, nsec: 1n } });
  });

  it("gettime of a disabled aux clock is ENODEV", async () => {
    const { r } = await virtualKernel();
    for (let n = 0; n < MAX_AUX_CLOCKS; n++) expect(r.clockGettime(CLOCK_AUX + n).ret).toBe(-ENODEV);
  });

  for (const inTimens of [false, true]) {
    it(`settime(1234 s + 5678 ns) then reads progress within (1 ns, 1 s)${inTimens ? ", inside a time namespace" : ""}`, async () => {
      const k = await Kernel.create({ counter: "host-call" }); // ns resolution: time really passes between reads
      onTestFinished(() => k.close());
      const c = CLOCK_AUX + 4;
      k.auxClockEnable(4, true);
      let nsp = null;
      if (inTimens) {
        const made = k.createTimeNamespace({ monotonic: { sec: 100n, nsec: 0n }, boottime: { sec: 200n, nsec: 0n } });
        if (typeof made === "number") throw new Error(String(made));
        nsp = made;
      }
      const r = await createReader(k, { ns: nsp });
      onTestFinished(() => r.close());
      expect(k.clockSettime(c, { sec: 1234n, nsec: 5678n })).toBe(0);
      const t = vdsoNs(r, c);
      expect(t - 1_234_000_005_678n).toBeGreaterThan(0n);
      expect(t - 1_234_000_005_678n).toBeLessThan(1_000_000_000n);
      let prev = t;
      for (let i = 0; i < 100; i++) {
        const now = vdsoNs(r, c);
        expect(now - prev).toBeGreaterThanOrEqual(1n);
        expect(now - prev).toBeLessThan(1_000_000_000n);
        prev = now;
      }
    });
  }

  it("the same ADJ_FREQUENCY on REALTIME and on an aux clock reads back the same", async () => {
    const { k } = await virtualKernel();
    k.auxClockEnable(0, true);
    for (const freq of [1n, -1000n, 123n << 16n, -(499n << 16n)]) {
      const a = timex({ modes: ADJ_FREQUENCY, freq });
      const b = timex({ modes: ADJ_FREQUENCY, freq });
      expect(k.clockAdjtime(CLOCK_REALTIME, a)).toBeGreaterThanOrEqual(0);
      expect(k.clockAdjtime(CLOCK_AUX, b)).toBeGreaterThanOrEqual(0);
      expect(b.freq).toBe(a.freq);
      const ra = timex();
      const rb = timex();
      k.clockAdjtime(CLOCK_REALTIME, ra);
      k.clockAdjtime(CLOCK_AUX, rb);
      expect(rb.freq).toBe(ra.freq);
    }
  });
});

describe("timers/valid-adjtimex", () => {
  const valid = [-499, -450, -400, -350, -300, -250, -200, -150, -100, -75, -50, -25, -10, -5, -1]
    .map((p) => BigInt(p) << 16n)
    .concat([-1000n], [1, 5, 10, 25, 50, 75, 100, 150, 200, 250, 300, 350, 400, 450, 499].map((p) => BigInt(p) << 16n));
  const outOfRange = [-1000n << 16n, -550n << 16n, 550n << 16n, 1000n << 16n];

  /** Sets `freq` with ADJ_FREQUENCY and reads the frequency back. */
  const setAndRead = (k: Awaited<ReturnType<typeof virtualKernel>>["k"], freq: bigint) => {
    expect(k.adjtimex(timex({ modes: ADJ_FREQUENCY, freq }))).toBeGreaterThanOrEqual(0);
    const t = timex();
    k.adjtimex(t);
    return t;
  };

  it("accepts and reads back every valid frequency", async () => {
    const { k } = await virtualKernel();
    for (const freq of valid) expect(setAndRead(k, freq).freq, `freq ${freq}`).toBe(freq);
  });

  it("clamps out-of-range frequencies to +/-500 ppm", async () => {
    const { k } = await virtualKernel();
    for (const freq of outOfRange) {
      const t = setAndRead(k, freq);
      expect(t.freq).not.toBe(freq);
      expect(t.freq).toBe(freq < 0n ? -(500n << 16n) : 500n << 16n);
    }
  });

  it("rejects LONG_MIN and LONG_MAX", async () => {
    const { k } = await virtualKernel();
    for (const freq of [LONG_MAX, LONG_MIN]) expect(k.adjtimex(timex({ modes: ADJ_FREQUENCY, freq }))).toBe(-EINVAL);
  });

  it("ADJ_SETOFFSET: valid us and ns offsets succeed, negative or >= 1 s fractions fail", async () => {
    const { k } = await virtualKernel();
    const ok = [[0n, 0n], [1n, 0n], [-1n, 0n], [0n, 1n], [-1n, 999_999n], [100n, 500_000n], [-100n, 999_999n]];
    for (const [sec, usec] of ok) expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec, usec } }))).toBeGreaterThanOrEqual(0);
    for (const [sec, usec] of ok) expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec, usec: usec * 1000n + 999n } }))).toBeGreaterThanOrEqual(0);
    const bad = [[0n, -1n], [1n, -1n], [-1n, -1_000_000n], [0n, 1_000_000n], [1n, 1_000_000n]];
    for (const [sec, usec] of bad) expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec, usec } }))).toBe(-EINVAL);
    for (const [sec, usec] of [[0n, 1_000_000_000n], [0n, -1n], [-1n, 2_000_000_000n]]) {
      expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec, usec } }))).toBe(-EINVAL);
    }
  });
});

describe("timers/set-tz", () => {
  it("-900..+870 minutes west read back through the vDSO's gettimeofday; +/-901, +/-1440 fail", async () => {
    const { k, r } = await virtualKernel();
    for (let min = -15 * 60; min < 15 * 60; min += 30) {
      for (const dst of [0, 1]) {
        expect(k.settimeofday(null, { minuteswest: min, dsttime: dst })).toBe(0);
        const tv = r.gettimeofday();
        expect([tv.minuteswest, tv.dsttime]).toEqual([min, dst]);
      }
    }
    for (const min of [-901, 901, -15 * 60 - 1, 24 * 60, -24 * 60]) expect(k.settimeofday(null, { minuteswest: min, dsttime: 0 })).toBe(-EINVAL);
    expect(r.gettimeofday().minuteswest).toBe(870);
  });
});

describe("timers/set-tai", () => {
  it("ADJ_TAI 1..60 reads back, and CLOCK_TAI in the vDSO moves with it", async () => {
    const { k, r } = await virtualKernel();
    for (let tai = 1; tai <= 60; tai++) {
      expect(k.adjtimex(timex({ modes: ADJ_TAI, constant: BigInt(tai) }))).toBeGreaterThanOrEqual(0);
      const t = timex();
      k.adjtimex(t);
      expect(t.tai).toBe(tai);
      expect(vdsoNs(r, CLOCK_TAI) - vdsoNs(r, CLOCK_REALTIME)).toBe(BigInt(tai) * 1_000_000_000n);
    }
  });
});

describe("timers/inconsistency-check", () => {
  const clocks = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_AUX];

  it("batches of 64 reads never go backwards while frequency sweeps +/-500 ppm and the clock steps forward", async () => {
    const { k, cs, r } = await virtualKernel();
    k.auxClockEnable(0, true);
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    let batches = 0;
    for (let round = 0; round < 400; round++) {
      const ppm = -500 + (round * 5) % 1001;
      k.adjtimex(timex({ modes: ADJ_FREQUENCY, freq: BigInt(ppm) << 16n }));
      k.clockAdjtime(CLOCK_AUX, timex({ modes: ADJ_FREQUENCY, freq: BigInt(-ppm) << 16n }));
      if (round % 50 === 49) k.adjtimex(timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 0n, usec: BigInt(rnd(1_000_000_000)) } }));
      for (const c of clocks) {
        let prev = -1n;
        for (let i = 0; i < 64; i++) {
          cs.advanceNs(BigInt(rnd(400_000)));
          if (rnd(8) === 0) k.tick();
          const t = vdsoNs(r, c);
          expect(t >= prev, `clock ${c} went back by ${prev - t} ns in round ${round}`).toBe(true);
          prev = t;
        }
        batches++;
      }
    }
    expect(batches).toBe(400 * clocks.length);
  });

  it("a backward step moves REALTIME and TAI back, never the monotonic clocks", async () => {
    const { k, cs, r } = await virtualKernel();
    cs.advanceNs(5_000_000_000);
    k.tick();
    const before = clocks.slice(0, 7).map((c) => vdsoNs(r, c));
    expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec: -2n, usec: 0n } }))).toBeGreaterThanOrEqual(0);
    const after = clocks.slice(0, 7).map((c) => vdsoNs(r, c));
    const back = clocks.slice(0, 7).filter((_, i) => after[i] < before[i]);
    expect(back).toEqual([CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI]);
  });
});

describe.each(["host-call", "shared", "virtual"] as const)("vDSO/vdso_test_correctness (%s counter)", (counter) => {
  const ids = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1, -2147483648, 2147483647];

  it("syscall <= vDSO <= syscall for every clock, EINVAL where the syscall says EINVAL", async () => {
    const k = await Kernel.create({ counter });
    onTestFinished(() => k.close());
    const r = await createReader(k);
    onTestFinished(() => r.close());
    for (let round = 0; round < 200; round++) {
      for (const c of ids) {
        const t1 = k.sysClockGettime(c);
        const v = r.clockGettime(c);
        const t2 = k.sysClockGettime(c);
        if (typeof t1 === "number") {
          expect(v.ret, `clock ${c}`).toBe(t1);
          continue;
        }
        expect(v.ret).toBe(0);
        const vn = ns(v.ts!);
        const n1 = t1.sec * 1_000_000_000n + t1.nsec;
        const n2 = (t2 as { sec: bigint; nsec: bigint }).sec * 1_000_000_000n + (t2 as { sec: bigint; nsec: bigint }).nsec;
        expect(n1 <= vn && vn <= n2, `clock ${c}: ${n1} <= ${vn} <= ${n2}`).toBe(true);
      }
      if (round % 20 === 0) k.tick();
      if (k.cs instanceof VirtualClocksource) k.cs.advanceNs(round * 1000);
    }
    expect(r.clockGettime(-1).ret).toBe(-EINVAL);
  });

  it("gettimeofday: syscall <= vDSO <= syscall, and the vDSO tz equals the syscall's", async () => {
    const k = await Kernel.create({ counter });
    onTestFinished(() => k.close());
    const r = await createReader(k);
    onTestFinished(() => r.close());
    k.settimeofday(null, { minuteswest: 60, dsttime: 0 });
    const us = (t: { sec: bigint; nsec: bigint }) => t.sec * 1_000_000n + t.nsec / 1000n;
    for (let i = 0; i < 100; i++) {
      const t1 = k.core.realtime();
      const v = r.gettimeofday();
      const t2 = k.core.realtime();
      const vu = v.sec! * 1_000_000n + v.usec!;
      expect(us(t1) <= vu && vu <= us(t2)).toBe(true);
      expect(v.minuteswest).toBe(k.tz.minuteswest);
    }
  });
});

describe.each(["host-call", "shared", "virtual"] as const)("vDSO/vdso_test_abi (%s counter)", (counter) => {
  it("each clock reads, and vDSO getres equals the syscall's", async () => {
    const k = await Kernel.create({ counter });
    onTestFinished(() => k.close());
    const r = await createReader(k);
    onTestFinished(() => r.close());
    for (const c of [CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID]) {
      const sys = k.sysClockGetres(c);
      const v = r.clockGetres(c);
      if (typeof sys === "number") {
        expect(v.ret).toBe(sys); // this host has no thread CPU clock: said honestly
        continue;
      }
      expect(v).toEqual({ ret: 0, ts: { sec: sys.sec, nsec: sys.nsec } });
      expect(r.clockGettime(c).ret).toBe(0);
    }
    expect(r.gettimeofday().ret).toBe(0);
    expect(r.time()).toBeGreaterThan(0n);
  });
});
