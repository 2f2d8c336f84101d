// The timekeeper and its publication, read back through the wasm vDSO.
import { describe, expect, it } from "vitest";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME,
  CLOCK_REALTIME_COARSE, CLOCK_TAI, EINVAL, ENODEV, vdso_clock, vdso_clock_mode, vdso_rng_data, vdso_time_data,
} from "../assembly/layout.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, ADJ_STATUS, ADJ_TAI, STA_INS, STA_PPSFREQ, timex } from "../src/kernel/timex.ts";
import { KERNEL_HZ } from "../src/kernel/timekeeper.ts";
import { createReader } from "../src/reader.ts";
import type { TimeNamespace } from "../src/kernel/timens.ts";
import type { Kernel } from "../src/kernel/kernel.ts";
import { EPOCH, sysNs, vdsoNs, virtualKernel } from "./helpers/kernel.ts";

/** The syscall's reading in ns for a task in `ns`. */
function sysNsIn(k: Kernel, clock: number, ns: TimeNamespace): bigint {
  const t = k.sysClockGettime(clock, ns);
  if (typeof t === "number") throw new Error(`clock ${clock}: errno ${t}`);
  return t.sec * 1_000_000_000n + t.nsec;
}

const HRES = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_TAI];
const ALL = [...HRES, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE];

describe("ticking and continuity", () => {
  it("boots at the given REALTIME with MONOTONIC, BOOTTIME, RAW at 0", async () => {
    const { cs, r } = await virtualKernel();
    cs.advanceNs(1500);
    expect(vdsoNs(r, CLOCK_REALTIME)).toBe(EPOCH.sec * 1_000_000_000n + 1500n);
    expect(vdsoNs(r, CLOCK_MONOTONIC)).toBe(1500n);
    expect(vdsoNs(r, CLOCK_BOOTTIME)).toBe(1500n);
    expect(vdsoNs(r, CLOCK_MONOTONIC_RAW)).toBe(1500n);
    expect(vdsoNs(r, CLOCK_TAI)).toBe(vdsoNs(r, CLOCK_REALTIME));
  });

  it("an update changes no reading at the same counter, even while NTP steers mult", async () => {
    const { k, cs, r } = await virtualKernel();
    k.clockAdjtime(CLOCK_REALTIME, timex({ modes: ADJ_FREQUENCY, freq: 123_456_789n }));
    k.auxClockEnable(0, true);
    k.clockAdjtime(CLOCK_AUX, timex({ modes: ADJ_FREQUENCY, freq: -987_654n }));
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    let maxAuxStep = 0n;
    for (let i = 0; i < 2000; i++) {
      cs.advanceNs(BigInt(rnd() % 9_000_000));
      const before = HRES.map((c) => vdsoNs(r, c));
      const auxBefore = vdsoNs(r, CLOCK_AUX);
      k.tick();
      expect(HRES.map((c) => vdsoNs(r, c))).toEqual(before);
      const d = vdsoNs(r, CLOCK_AUX) - auxBefore;
      if ((d < 0n ? -d : d) > maxAuxStep) maxAuxStep = d < 0n ? -d : d;
    }
    // Aux basetime drops sub-ns bits (as Linux does): at most 1 ns either way.
    expect(maxAuxStep).toBeLessThanOrEqual(1n);
  });

  it("the vDSO and the syscall agree at every counter", async () => {
    const { k, cs, r, run } = await virtualKernel();
    k.adjtimex(timex({ modes: ADJ_FREQUENCY, freq: 33n << 16n }));
    for (let i = 0; i < 300; i++) {
      run(3_999_999n + BigInt(i) * 1_001n, 2_000_001n);
      cs.advanceNs(BigInt(i * 7919));
      for (const c of ALL) expect(vdsoNs(r, c), `clock ${c}`).toBe(sysNs(k, c));
    }
  });
});

describe("ADJ_FREQUENCY: the clock's rate is what was asked", () => {
  // scaled ppm: ppm * 2^16
  for (const freq of [100n << 16n, -(250n << 16n) - 32768n, 499n << 16n, -(499n << 16n), 1n, 0n]) {
    it(`freq ${freq} (${Number(freq) / 65536} ppm) over 1000 s of virtual time`, async () => {
      const { k, r, run } = await virtualKernel();
      run(1_000_000_000n);
      k.adjtimex(timex({ modes: ADJ_FREQUENCY, freq }));
      const m0 = vdsoNs(r, CLOCK_MONOTONIC);
      const r0 = vdsoNs(r, CLOCK_MONOTONIC_RAW);
      run(1000n * 1_000_000_000n, 10_000_000n);
      const dm = vdsoNs(r, CLOCK_MONOTONIC) - m0;
      const dr = vdsoNs(r, CLOCK_MONOTONIC_RAW) - r0;
      // Wanted: dm = dr * (1 + freq / 2^16 / 1e6), exactly as a rational.
      const D = 65_536_000_000n;
      const errScaled = dm * D - dr * (D + freq); // ns * D
      // Bound: the mult is dithered by NTP's error feedback, so the clock stays within
      // one mult step over one tick interval (cycle_interval / 2^shift ns) of ideal,
      // plus 1 ns of truncation at each of the two readings.
      const tk = k.core;
      const boundNs = tk.cycleInterval / (1n << tk.mono.shift) + 1n + 2n;
      expect(errScaled < 0n ? -errScaled : errScaled).toBeLessThanOrEqual(boundNs * D);
      // And the published mult never strays more than one step from the ideal one.
      const ideal = (BigInt(k.cs.mult) * (D + freq)) / D;
      const mult = BigInt(k.store.getU32(k.store.time + vdso_clock.mult));
      expect(mult - ideal).toBeGreaterThanOrEqual(-1n);
      expect(mult - ideal).toBeLessThanOrEqual(2n);
    });
  }
});

describe("steering", () => {
  it("clock_settime(REALTIME) moves REALTIME and TAI, not MONOTONIC, BOOTTIME or RAW", async () => {
    const { k, cs, r } = await virtualKernel();
    cs.advanceNs(5_000_000);
    const before = ALL.map((c) => vdsoNs(r, c));
    expect(k.clockSettime(CLOCK_REALTIME, { sec: 1_800_000_000n, nsec: 42n })).toBe(0);
    expect(vdsoNs(r, CLOCK_REALTIME)).toBe(1_800_000_000_000_000_042n);
    expect(vdsoNs(r, CLOCK_TAI)).toBe(1_800_000_000_000_000_042n);
    expect(vdsoNs(r, CLOCK_MONOTONIC)).toBe(before[1]);
    expect(vdsoNs(r, CLOCK_MONOTONIC_RAW)).toBe(before[2]);
    expect(vdsoNs(r, CLOCK_BOOTTIME)).toBe(before[3]);
    expect(vdsoNs(r, CLOCK_REALTIME_COARSE)).toBe(1_800_000_000_000_000_042n);
  });

  it("clock_settime rejects negative, unnormalised and before-boot times", async () => {
    const { k, cs } = await virtualKernel();
    cs.advanceNs(10_000_000_000);
    k.tick();
    const seq = k.store.getU32(k.store.time);
    expect(k.clockSettime(CLOCK_REALTIME, { sec: -1n, nsec: 0n })).toBe(-EINVAL);
    expect(k.clockSettime(CLOCK_REALTIME, { sec: 5n, nsec: 1_000_000_000n })).toBe(-EINVAL);
    expect(k.clockSettime(CLOCK_REALTIME, { sec: 5n, nsec: 0n })).toBe(-EINVAL); // before monotonic 10 s
    expect(k.clockSettime(CLOCK_MONOTONIC, { sec: 5n, nsec: 0n })).toBe(-EINVAL);
    expect(k.store.getU32(k.store.time)).toBe(seq); // nothing published
  });

  it("settimeofday tz is written without touching seq", async () => {
    const { k, r } = await virtualKernel();
    const seq = k.store.getU32(k.store.time);
    expect(k.settimeofday(null, { minuteswest: -330, dsttime: 1 })).toBe(0);
    expect(k.store.getU32(k.store.time)).toBe(seq);
    const tv = r.gettimeofday();
    expect([tv.minuteswest, tv.dsttime]).toEqual([-330, 1]);
  });

  it("ADJ_SETOFFSET (ns and us) steps REALTIME and TAI; invalid fractions are EINVAL", async () => {
    const { k, cs, r } = await virtualKernel();
    cs.advanceNs(1_000_000);
    const rt = vdsoNs(r, CLOCK_REALTIME);
    const mono = vdsoNs(r, CLOCK_MONOTONIC);
    expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: -2n, usec: 999_999_999n } }))).toBeGreaterThanOrEqual(0);
    expect(vdsoNs(r, CLOCK_REALTIME)).toBe(rt - 1_000_000_001n);
    expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec: 1n, usec: 500_000n } }))).toBeGreaterThanOrEqual(0);
    expect(vdsoNs(r, CLOCK_REALTIME)).toBe(rt - 1_000_000_001n + 1_500_000_000n);
    expect(vdsoNs(r, CLOCK_MONOTONIC)).toBe(mono);
    for (const t of [{ modes: ADJ_SETOFFSET, usec: 1_000_000n }, { modes: ADJ_SETOFFSET, usec: -1n }, { modes: ADJ_SETOFFSET | ADJ_NANO, usec: 1_000_000_000n }]) {
      expect(k.adjtimex(timex({ modes: t.modes, time: { sec: 0n, usec: t.usec } }))).toBe(-EINVAL);
    }
  });

  it("ADJ_TAI moves TAI only, and reads back", async () => {
    const { k, r } = await virtualKernel();
    expect(k.adjtimex(timex({ modes: ADJ_TAI, constant: 37n }))).toBeGreaterThanOrEqual(0);
    expect(vdsoNs(r, CLOCK_TAI) - vdsoNs(r, CLOCK_REALTIME)).toBe(37_000_000_000n);
    const t = timex();
    k.adjtimex(t);
    expect(t.tai).toBe(37);
  });

  it("suspend advances BOOTTIME and REALTIME but not MONOTONIC", async () => {
    const { k, cs, r } = await virtualKernel();
    cs.advanceNs(3_000_000);
    const [rt, mono, boot] = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME].map((c) => vdsoNs(r, c));
    expect(k.suspend(3_600_000_000_000n)).toBe(0);
    expect(vdsoNs(r, CLOCK_MONOTONIC)).toBe(mono);
    expect(vdsoNs(r, CLOCK_BOOTTIME)).toBe(boot + 3_600_000_000_000n);
    expect(vdsoNs(r, CLOCK_REALTIME)).toBe(rt + 3_600_000_000_000n);
  });

  it("hrtimer_res and the clock mode are published", async () => {
    const { k } = await virtualKernel();
    expect(k.store.getU32(k.store.time + vdso_time_data.hrtimer_res)).toBe(1);
    expect(k.store.getU32(k.store.time + vdso_clock.clock_mode)).toBe(vdso_clock_mode.VIRTUAL);
    expect(KERNEL_HZ).toBe(250n);
  });
});

describe("aux clocks", () => {
  const auxSeq = (k: Awaited<ReturnType<typeof virtualKernel>>["k"], n: number) => k.store.getU32(k.store.time + 464 + 232 * n);

  it("disabled: mode NONE, clock_gettime ENODEV through the fallback; enabled: read in the vDSO from 0", async () => {
    const { k, cs, r } = await virtualKernel();
    expect(k.store.getU32(k.store.time + 464 + vdso_clock.clock_mode)).toBe(vdso_clock_mode.NONE);
    expect(r.clockGettime(CLOCK_AUX).ret).toBe(-ENODEV);
    expect(k.auxClockEnable(0, true)).toBe(0);
    cs.advanceNs(777);
    expect(vdsoNs(r, CLOCK_AUX)).toBe(777n);
    expect(k.auxClockEnable(0, false)).toBe(0);
    expect(r.clockGettime(CLOCK_AUX).ret).toBe(-ENODEV);
    expect(k.clockSettime(CLOCK_AUX, { sec: 1n, nsec: 0n })).toBe(-ENODEV);
    expect(k.clockAdjtime(CLOCK_AUX, timex({ modes: ADJ_FREQUENCY, freq: 1n }))).toBe(-ENODEV);
    expect(k.auxClockEnable(8, true)).toBe(-EINVAL);
  });

  it("each aux clock has its own seq; core updates leave it alone and vice versa", async () => {
    const { k, cs, r } = await virtualKernel();
    k.auxClockEnable(2, true);
    const a = auxSeq(k, 2);
    const core = k.store.getU32(k.store.time);
    expect(k.clockSettime(CLOCK_REALTIME, { sec: 1_750_000_000n, nsec: 0n })).toBe(0);
    expect(auxSeq(k, 2)).toBe(a);
    expect(k.clockSettime(CLOCK_AUX + 2, { sec: 10n, nsec: 0n })).toBe(0);
    expect(k.store.getU32(k.store.time)).toBe(core + 2);
    expect(auxSeq(k, 2)).toBe(a + 2);
    expect(auxSeq(k, 3)).toBe(auxSeq(k, 4));
    cs.advanceNs(5);
    expect(vdsoNs(r, CLOCK_AUX + 2)).toBe(10_000_000_005n);
  });

  it("basetime[0] holds whole nanoseconds of aux time at cycle_last", async () => {
    const { k, cs, run } = await virtualKernel();
    k.auxClockEnable(5, true);
    k.clockAdjtime(CLOCK_AUX + 5, timex({ modes: ADJ_FREQUENCY, freq: 7n << 16n }));
    run(1_234_567_891n);
    cs.advanceNs(333);
    k.tick();
    const vc = k.store.time + 464 + 232 * 5;
    const shift = BigInt(k.store.getU32(vc + vdso_clock.shift));
    const nsec = k.store.getU64(vc + 48);
    expect(nsec % (1n << shift)).toBe(0n);
    const sec = k.store.getU64(vc + 40);
    const tk = k.aux[5].tk;
    const want = (tk.xtimeSec * 1_000_000_000n + (tk.mono.xtimeNsec >> tk.mono.shift)) + tk.offsAux;
    expect(sec * 1_000_000_000n + (nsec >> shift)).toBe(want);
  });

  it("clock_adjtime on aux: SETOFFSET moves it, a negative result is EINVAL, leap/TAI/PPS are EINVAL", async () => {
    const { k, r } = await virtualKernel();
    k.auxClockEnable(1, true);
    const c = CLOCK_AUX + 1;
    expect(k.clockAdjtime(c, timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 5n, usec: 5n } }))).toBeGreaterThanOrEqual(0);
    expect(vdsoNs(r, c)).toBe(5_000_000_005n);
    expect(k.clockAdjtime(c, timex({ modes: ADJ_SETOFFSET, time: { sec: -6n, usec: 0n } }))).toBe(-EINVAL);
    expect(k.clockAdjtime(c, timex({ modes: ADJ_STATUS, status: STA_INS }))).toBe(-EINVAL);
    expect(k.clockAdjtime(c, timex({ modes: ADJ_STATUS, status: STA_PPSFREQ }))).toBe(-EINVAL);
    expect(k.clockAdjtime(c, timex({ modes: ADJ_TAI, constant: 1n }))).toBe(-EINVAL);
    expect(k.clockAdjtime(CLOCK_REALTIME, timex({ modes: ADJ_STATUS, status: STA_INS }))).toBeGreaterThanOrEqual(0);
  });
});

describe("time namespaces", () => {
  it("MONOTONIC, RAW, MONOTONIC_COARSE, BOOTTIME shift; REALTIME, TAI and aux do not", async () => {
    const { k, cs, r, run } = await virtualKernel();
    k.auxClockEnable(0, true);
    run(2_000_000_000n);
    cs.advanceNs(12345);
    const root = [...ALL, CLOCK_AUX].map((c) => vdsoNs(r, c));
    const ns = k.createTimeNamespace({ monotonic: { sec: 1000n, nsec: 123_456_789n }, boottime: { sec: -1n, nsec: 500_000_000n } });
    if (typeof ns === "number") throw new Error(`errno ${ns}`);
    const rn = await createReader(k, { ns });
    const inside = [...ALL, CLOCK_AUX].map((c) => vdsoNs(rn, c));
    const shift = inside.map((v, i) => v - root[i]);
    expect(shift).toEqual([0n, 1000_123_456_789n, 1000_123_456_789n, -500_000_000n, 0n, 0n, 1000_123_456_789n, 0n]);
    // the syscall (fallback) path agrees for the namespaced task
    for (const c of ALL) expect(sysNsIn(k, c, ns)).toBe(vdsoNs(rn, c));
    // a root task still reads the root clocks
    expect(vdsoNs(r, CLOCK_MONOTONIC)).toBe(root[1]);
  });

  it("offsets that would take a clock below zero are ERANGE", async () => {
    const { k } = await virtualKernel();
    expect(k.createTimeNamespace({ monotonic: { sec: -10n, nsec: 0n } })).toBe(-34);
  });
});

describe("rng page", () => {
  it("is ready, generation never 0, a reseed changes it", async () => {
    const { k } = await virtualKernel();
    expect(k.store.getU32(k.store.rng + vdso_rng_data.is_ready) & 0xff).toBe(1);
    const g = k.store.getU64(k.store.rng + vdso_rng_data.generation);
    expect(g).not.toBe(0n);
    expect(k.rng.reseed()).not.toBe(g);
    expect(k.store.getU64(k.store.rng + vdso_rng_data.generation)).toBe(k.rng.generation);
  });
});
