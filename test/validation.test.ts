// Longer than ~350 lines on purpose: one test per probed bad input, each
// asserting the refusal and that nothing changed.
// Validation at the boundary, all or nothing: every argument is checked before
// any state changes; a refused call leaves no trace (time, tz, namespaces, seq,
// NTP state), and the tick keeps working afterwards.
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_REALTIME,
  CLOCK_TAI, EINVAL, ENODEV, STORE_END, STORE_START, vdso_clock, vdso_pages,
} from "../assembly/layout.ts";
import { storeMemory } from "../src/datastore.ts";
import { ENOSPC, EOPNOTSUPP, ERANGE } from "../assembly/layout.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import {
  ADJ_ADJTIME, ADJ_FREQUENCY, ADJ_MAXERROR, ADJ_NANO, ADJ_OFFSET_READONLY, ADJ_OFFSET_SINGLESHOT, ADJ_SETOFFSET, ADJ_STATUS, ADJ_TAI,
  ADJ_TICK, ADJ_TIMECONST, STA_PLL, timex,
} from "../src/kernel/timex.ts";
import { createReader } from "../src/reader.ts";
import { KTIME_SEC_MAX, S64_MAX, TIME_SETTOD_SEC_MAX } from "../src/time.ts";
import { EPOCH, sysNs, vdsoNs, virtualKernel } from "./helpers/kernel.ts";
import { booted, countTicks, expectNoTrace, expectTicks, PAGE, SEC } from "./helpers/notrace.ts";

describe("a timex is converted before anything is applied", () => {
  it("timex() takes numbers for long fields and gives bigints; anything else names the field", () => {
    const t = timex({ freq: 65536, maxerror: 7n, time: { sec: 1, usec: 2 } });
    expect([t.freq, t.maxerror, t.offset, t.time.sec, t.time.usec]).toEqual([65536n, 7n, 0n, 1n, 2n]);
    expect(() => timex({ freq: NaN })).toThrow(/timex\.freq/);
    expect(() => timex({ freq: 1.5 })).toThrow(RangeError);
    expect(() => timex({ freq: 2 ** 53 })).toThrow(RangeError);
    expect(() => timex({ freq: "5" as unknown as number })).toThrow(TypeError);
    expect(() => timex({ freq: 2n ** 63n })).toThrow(/timex\.freq .* 64 bits/);
    expect(() => timex({ modes: -1 })).toThrow(/timex\.modes/);
    expect(() => timex({ modes: 2 ** 31 })).toThrow(/timex\.modes/);
    expect(() => timex({ status: 0.5 })).toThrow(/timex\.status/);
    expect(() => timex({ time: { usec: 0.5 } })).toThrow(/timex\.time\.usec/);
    expect(() => timex({ time: null as unknown as { sec: bigint } })).toThrow(/timex\.time/);
  });

  // Each of these was accepted with a number left in the NTP state, and the next second's arithmetic threw.
  it("ADJ_MAXERROR with a number: accepted as a bigint, and maxerror grows 500 us a second after it", async () => {
    const v = await booted();
    const t = { modes: ADJ_MAXERROR, maxerror: 100 };
    expect(v.k.adjtimex(t)).toBeGreaterThanOrEqual(0);
    expect(t.maxerror).toBe(100n); // the read-back is written into the caller's object, bigint
    v.run(3n * SEC + SEC / 2n);
    const r = timex();
    v.k.adjtimex(r);
    expect(r.maxerror).toBe(100n + 3n * 500n);
    expectTicks(v);
  });

  it("{ modes: ADJ_MAXERROR } alone: the missing field is 0", async () => {
    const v = await booted();
    expect(v.k.adjtimex({ modes: ADJ_MAXERROR })).toBeGreaterThanOrEqual(0);
    v.run(SEC + SEC / 2n);
    const r = timex();
    v.k.adjtimex(r);
    expect(r.maxerror).toBe(500n);
    expectTicks(v);
  });

  it("ADJ_OFFSET_SINGLESHOT offset 1000 (us) with a number: slews 1 ms over 2 s", async () => {
    const v = await booted();
    expect(v.k.adjtimex({ modes: ADJ_OFFSET_SINGLESHOT, offset: 1000 })).toBeGreaterThanOrEqual(0);
    expectTicks(v, 1_000_000n);
  });

  it("ADJ_TIMECONST constant 5 with a number (us mode adds 4)", async () => {
    const v = await booted();
    expect(v.k.adjtimex({ modes: ADJ_TIMECONST, constant: 5 })).toBeGreaterThanOrEqual(0);
    const r = timex();
    v.k.adjtimex(r);
    expect(r.constant).toBe(9n);
    expectTicks(v);
  });

  it("ADJ_TICK tick 10000 with a number, then ADJ_FREQUENCY", async () => {
    const v = await booted();
    expect(v.k.adjtimex({ modes: ADJ_TICK, tick: 10000 })).toBeGreaterThanOrEqual(0);
    const f = { modes: ADJ_FREQUENCY, freq: 65536 };
    expect(v.k.adjtimex(f)).toBeGreaterThanOrEqual(0);
    expect(f.freq).toBe(65536n);
    const r = timex();
    v.k.adjtimex(r);
    expect([r.tick, r.freq]).toEqual([10000n, 65536n]);
    v.k.adjtimex({ modes: ADJ_FREQUENCY, freq: 0 });
    expectTicks(v);
  });

  it("ADJ_TAI with a number 37 is TAI - 37 s; with 1.5 it is a RangeError and seq stays even and unmoved", async () => {
    const v = await booted();
    expect(v.k.adjtimex({ modes: ADJ_TAI, constant: 37 })).toBeGreaterThanOrEqual(0);
    expect(vdsoNs(v.r, CLOCK_TAI) - vdsoNs(v.r, CLOCK_REALTIME)).toBe(37n * SEC);
    expectNoTrace(v, () => expect(() => v.k.adjtimex({ modes: ADJ_TAI, constant: 1.5 })).toThrow(/timex\.constant/));
  });

  it("ADJ_SETOFFSET | ADJ_FREQUENCY with freq NaN: RangeError, REALTIME not moved", async () => {
    const v = await booted();
    expectNoTrace(v, () =>
      expect(() => v.k.adjtimex({ modes: ADJ_SETOFFSET | ADJ_FREQUENCY, time: { sec: 5, usec: 0 }, freq: NaN })).toThrow(/timex\.freq/),
    );
  });

  it("ADJ_STATUS | ADJ_FREQUENCY with NaN: RangeError, status not applied", async () => {
    const v = await booted();
    expectNoTrace(v, () => expect(() => v.k.adjtimex({ modes: ADJ_STATUS | ADJ_FREQUENCY, status: STA_PLL, freq: NaN })).toThrow(RangeError));
  });

  it("wrong types: TypeError/RangeError naming the field, for adjtimex and clock_adjtime alike", async () => {
    const v = await booted();
    expectNoTrace(v, () => {
      for (const adj of [(t: object) => v.k.adjtimex(t), (t: object) => v.k.clockAdjtime(CLOCK_REALTIME, t), (t: object) => v.k.clockAdjtime(CLOCK_AUX, t)]) {
        expect(() => adj({ modes: ADJ_FREQUENCY, freq: "1" })).toThrow(/timex\.freq/);
        expect(() => adj({ modes: ADJ_FREQUENCY, freq: 1n, offset: {} })).toThrow(/timex\.offset/);
        expect(() => adj({ modes: ADJ_SETOFFSET, time: { sec: 1, usec: 0.5 } })).toThrow(/timex\.time\.usec/);
        expect(() => adj({ modes: "1" })).toThrow(/timex\.modes/);
        expect(() => adj({ modes: ADJ_MAXERROR, maxerror: 2n ** 64n })).toThrow(RangeError);
        expect(() => adj(null as unknown as object)).toThrow(TypeError);
        expect(() => adj(5 as unknown as object)).toThrow(TypeError);
      }
      expect(() => v.k.clockAdjtime(CLOCK_MONOTONIC, { freq: NaN })).toThrow(/timex\.freq/);
    });
  });

  it("a refused adjtimex leaves the caller's object as it was", async () => {
    const v = await booted();
    const t = { modes: ADJ_FREQUENCY, freq: S64_MAX };
    expectNoTrace(v, () => expect(v.k.adjtimex(t)).toBe(-EINVAL));
    expect(t).toEqual({ modes: ADJ_FREQUENCY, freq: S64_MAX });
    const a = { modes: ADJ_TAI, constant: 1 };
    expect(v.k.clockAdjtime(CLOCK_AUX, a)).toBe(-EINVAL);
    expect(a).toEqual({ modes: ADJ_TAI, constant: 1 });
  });
});

describe("refused calls change nothing first", () => {
  it("settimeofday: an invalid time with a timezone is -EINVAL and the timezone stays", async () => {
    const v = await booted();
    expectNoTrace(v, () => {
      expect(v.k.settimeofday({ sec: -1n, nsec: 0n }, { minuteswest: 60, dsttime: 1 })).toBe(-EINVAL);
      expect(v.k.settimeofday({ sec: 5n, nsec: SEC }, { minuteswest: 60, dsttime: 1 })).toBe(-EINVAL);
      expect(v.k.settimeofday({ sec: TIME_SETTOD_SEC_MAX, nsec: 0n }, { minuteswest: 60, dsttime: 1 })).toBe(-EINVAL);
      // before boot (monotonic is 2 s): refused before the timezone is set
      expect(v.k.settimeofday({ sec: 1n, nsec: 0n }, { minuteswest: 60, dsttime: 1 })).toBe(-EINVAL);
      // a valid time with a timezone out of range: neither is applied
      expect(v.k.settimeofday({ sec: 1_800_000_000n, nsec: 0n }, { minuteswest: 901, dsttime: 0 })).toBe(-EINVAL);
      expect(() => v.k.settimeofday({ sec: 1_800_000_000n, nsec: 0n }, { minuteswest: 1.5, dsttime: 0 })).toThrow(/tz\.minuteswest/);
      expect(() => v.k.settimeofday({ sec: 1_800_000_000n, nsec: 0.5 }, { minuteswest: 60, dsttime: 0 })).toThrow(/tv\.nsec/);
      expect(() => v.k.settimeofday(null, { minuteswest: 60, dsttime: "1" as unknown as number })).toThrow(/tz\.dsttime/);
    });
    // and a valid pair applies both
    expect(v.k.settimeofday({ sec: 1_800_000_000, nsec: 0 }, { minuteswest: 60, dsttime: 1 })).toBe(0);
    expect([v.k.tz.minuteswest, v.r.gettimeofday().minuteswest, v.r.gettimeofday().sec]).toEqual([60, 60, 1_800_000_000n]);
  });

  it("clock_settime: bad times and ids are refused without a trace", async () => {
    const v = await booted();
    expectNoTrace(v, () => {
      for (const c of [CLOCK_REALTIME, CLOCK_AUX]) {
        expect(v.k.clockSettime(c, { sec: -1n, nsec: 0n })).toBe(-EINVAL);
        expect(v.k.clockSettime(c, { sec: 1n, nsec: -1n })).toBe(-EINVAL);
        expect(v.k.clockSettime(c, { sec: TIME_SETTOD_SEC_MAX, nsec: 0n })).toBe(-EINVAL);
        expect(() => v.k.clockSettime(c, { sec: 1.5, nsec: 0 })).toThrow(/tp\.sec/);
        expect(() => v.k.clockSettime(c, null as unknown as { sec: bigint; nsec: bigint })).toThrow(TypeError);
      }
      expect(v.k.clockSettime(CLOCK_REALTIME, { sec: 1n, nsec: 0n })).toBe(-EINVAL); // before boot
      for (const c of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 24, -1]) expect(v.k.clockSettime(c, { sec: 1n, nsec: 0n }), `clock ${c}`).toBe(-EINVAL);
      expect(v.k.clockSettime(CLOCK_AUX + 2, { sec: 1n, nsec: 0n })).toBe(-ENODEV);
    });
  });
});

describe("Linux's range checks", () => {
  it("aux ADJ_SETOFFSET: the resulting time must be a valid time to set", async () => {
    const v = await booted();
    const now = vdsoNs(v.r, CLOCK_AUX) / SEC; // 2 s
    expectNoTrace(v, () => {
      for (const sec of [2n ** 63n - 2n, 9_000_000_000n, TIME_SETTOD_SEC_MAX - now, -now - 1n]) {
        expect(v.k.clockAdjtime(CLOCK_AUX, timex({ modes: ADJ_SETOFFSET, time: { sec } })), `${sec}`).toBe(-EINVAL);
      }
    });
    // just below the bound is accepted, and the vDSO and the syscall agree on it
    const later = vdsoNs(v.r, CLOCK_AUX) / SEC; // 3 s of ticking later
    expect(v.k.clockAdjtime(CLOCK_AUX, timex({ modes: ADJ_SETOFFSET, time: { sec: TIME_SETTOD_SEC_MAX - later - 1n } }))).toBeGreaterThanOrEqual(0);
    expect(vdsoNs(v.r, CLOCK_AUX)).toBe(sysNs(v.k, CLOCK_AUX));
    expect(vdsoNs(v.r, CLOCK_AUX) / SEC).toBe(TIME_SETTOD_SEC_MAX - 1n);
    // a second step past the bound is refused
    expectNoTrace(v, () => expect(v.k.clockAdjtime(CLOCK_AUX, timex({ modes: ADJ_SETOFFSET, time: { sec: 5n } }))).toBe(-EINVAL));
  });

  it("core ADJ_SETOFFSET: the same bound (and not before boot)", async () => {
    const v = await booted();
    const now = vdsoNs(v.r, CLOCK_REALTIME) / SEC;
    expectNoTrace(v, () => {
      expect(v.k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec: 9_000_000_000n } }))).toBe(-EINVAL);
      expect(v.k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec: TIME_SETTOD_SEC_MAX - now } }))).toBe(-EINVAL);
      expect(v.k.adjtimex(timex({ modes: ADJ_SETOFFSET, time: { sec: -now } }))).toBe(-EINVAL);
    });
  });

  it("the limits are Linux's: KTIME_SEC_MAX = KTIME_MAX / NSEC_PER_SEC, TIME_SETTOD_SEC_MAX 30 years below it", () => {
    expect(KTIME_SEC_MAX).toBe(9_223_372_036n);
    expect(TIME_SETTOD_SEC_MAX).toBe(9_223_372_036n - 30n * 365n * 86_400n);
  });

  it("suspend: s64 nanoseconds; negative, beyond ktime or beyond TIME_SETTOD_SEC_MAX is -EINVAL", async () => {
    const v = await booted();
    const rt = vdsoNs(v.r, CLOCK_REALTIME);
    expectNoTrace(v, () => {
      expect(() => v.k.suspend(2n ** 80n)).toThrow(/ns .*64 bits/);
      expect(() => v.k.suspend(1.5)).toThrow(RangeError);
      expect(() => v.k.suspend(NaN)).toThrow(RangeError);
      expect(() => v.k.suspend("5" as unknown as number)).toThrow(TypeError);
      expect(v.k.suspend(-1n)).toBe(-EINVAL);
      expect(v.k.suspend(S64_MAX)).toBe(-EINVAL); // sec == KTIME_SEC_MAX: not timespec64_valid_strict
      expect(v.k.suspend((TIME_SETTOD_SEC_MAX - rt / SEC) * SEC)).toBe(-EINVAL);
    });
    const [rt1, mono1, boot1] = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME].map((c) => vdsoNs(v.r, c));
    expect(v.k.suspend(1000)).toBe(0);
    expect(vdsoNs(v.r, CLOCK_REALTIME) - rt1).toBe(1000n);
    expect(vdsoNs(v.r, CLOCK_BOOTTIME) - boot1).toBe(1000n);
    expect(vdsoNs(v.r, CLOCK_MONOTONIC)).toBe(mono1);
  });

  it("namespace offsets: nsec outside [0, 1e9) is -EINVAL, out-of-range sums -ERANGE; no page is used", async () => {
    const v = await booted();
    const a = v.k.createTimeNamespace();
    if (typeof a === "number") throw new Error(`errno ${a}`);
    expectNoTrace(v, () => {
      expect(v.k.createTimeNamespace({ monotonic: { sec: 1n, nsec: SEC } })).toBe(-EINVAL);
      expect(v.k.createTimeNamespace({ monotonic: { sec: 1n, nsec: -1n } })).toBe(-EINVAL);
      expect(v.k.createTimeNamespace({ boottime: { sec: 1n, nsec: SEC } })).toBe(-EINVAL);
      // nsec is checked for both before any range (Linux parses every offset first)
      expect(v.k.createTimeNamespace({ monotonic: { sec: -100n, nsec: 0n }, boottime: { sec: 0n, nsec: -1n } })).toBe(-EINVAL);
      expect(v.k.createTimeNamespace({ monotonic: { sec: -3n, nsec: 0n } })).toBe(-ERANGE); // monotonic is 2 s
      expect(v.k.createTimeNamespace({ boottime: { sec: KTIME_SEC_MAX / 2n, nsec: 0n } })).toBe(-ERANGE);
      expect(v.k.createTimeNamespace({ boottime: { sec: KTIME_SEC_MAX + 1n, nsec: 0n } })).toBe(-ERANGE);
      expect(v.k.createTimeNamespace({ monotonic: { sec: -KTIME_SEC_MAX - 1n, nsec: 0n } })).toBe(-ERANGE);
      expect(() => v.k.createTimeNamespace({ monotonic: { sec: 1.5, nsec: 0 } })).toThrow(/offsets\.monotonic\.sec/);
      expect(() => v.k.createTimeNamespace({ boottime: 5 as unknown as { sec: bigint; nsec: bigint } })).toThrow(/offsets\.boottime/);
      expect(() => v.k.createTimeNamespace({}, "yes" as unknown as boolean)).toThrow(/auxClocks/);
    });
    // a negative sec with nsec in range is fine, and the next page is the one after `a`
    const boot = vdsoNs(v.r, CLOCK_BOOTTIME) / SEC;
    expect(v.k.createTimeNamespace({ boottime: { sec: KTIME_SEC_MAX / 2n - boot + 1n, nsec: 0n } })).toBe(-ERANGE);
    const b = v.k.createTimeNamespace({ monotonic: { sec: -2n, nsec: 5 }, boottime: { sec: KTIME_SEC_MAX / 2n - boot - 1n, nsec: 0n } });
    if (typeof b === "number") throw new Error(`errno ${b}`);
    expect(b.page).toBe(a.page + PAGE);
    const rb = await createReader(v.k, { ns: b });
    onTestFinished(() => rb.close());
    expect(vdsoNs(rb, CLOCK_MONOTONIC)).toBe(vdsoNs(v.r, CLOCK_MONOTONIC) - 2n * SEC + 5n);
  });

  it("when the store has no page left a namespace is -ENOSPC, and nothing is allocated", async () => {
    const v = await booted();
    const room = (STORE_END - STORE_START) / PAGE - vdso_pages.VDSO_NR_PAGES;
    const pages: number[] = [];
    for (let i = 0; i < room; i++) {
      const ns = v.k.createTimeNamespace();
      if (typeof ns === "number") throw new Error(`namespace ${i + 1}: errno ${ns}`);
      pages.push(ns.page);
    }
    expect(pages.length).toBe(251);
    expectNoTrace(v, () => {
      expect(v.k.createTimeNamespace()).toBe(-ENOSPC);
      expect(v.k.createTimeNamespace({ monotonic: { sec: 1n, nsec: 0n } })).toBe(-ENOSPC);
    });
    expect(pages[pages.length - 1]).toBe(STORE_END - PAGE);
  });

  it("clock_adjtime: a clock without clock_adj is -EOPNOTSUPP, no clock -EINVAL, a disabled aux clock -ENODEV", async () => {
    const v = await booted();
    expectNoTrace(v, () => {
      const t = () => timex({ modes: ADJ_FREQUENCY, freq: 65536n });
      for (const c of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]) expect(v.k.clockAdjtime(c, t()), `clock ${c}`).toBe(-EOPNOTSUPP);
      for (const c of [10, 12, 13, 14, 15, -1, -2, 24, 2 ** 31 - 1, -(2 ** 31)]) expect(v.k.clockAdjtime(c, t()), `clock ${c}`).toBe(-EINVAL);
      expect(v.k.clockAdjtime(CLOCK_AUX + 2, t())).toBe(-ENODEV);
      expect(v.k.clockAdjtime(CLOCK_AUX + 7, t())).toBe(-ENODEV);
    });
    expect(EOPNOTSUPP).toBe(95);
  });

  it("ADJ_ADJTIME alone is accepted and sets time_adjust (as ADJ_OFFSET_SINGLESHOT)", async () => {
    const v = await booted();
    const t = timex({ modes: ADJ_ADJTIME, offset: 1000n });
    expect(v.k.adjtimex(t)).toBeGreaterThanOrEqual(0);
    expect(t.offset).toBe(0n); // the previous time_adjust
    const read = timex({ modes: ADJ_OFFSET_SINGLESHOT | ADJ_OFFSET_READONLY });
    expect(v.k.adjtimex(read)).toBeGreaterThanOrEqual(0);
    expect(read.offset).toBe(1000n);
    expectTicks(v, 1_000_000n);
  });

  it("auxClockEnable: enable must be a boolean, an index that is no aux clock is -EINVAL", async () => {
    const v = await booted();
    expectNoTrace(v, () => {
      expect(() => v.k.auxClockEnable(2, 1 as unknown as boolean)).toThrow(/enable/);
      expect(() => v.k.auxClockEnable(0, "false" as unknown as boolean)).toThrow(TypeError);
      for (const idx of [0.5, NaN, -1, 8, "2" as unknown as number, 2n as unknown as number]) expect(v.k.auxClockEnable(idx, true)).toBe(-EINVAL);
    });
  });
});

describe("clock ids are integers", () => {
  const bad = [0.5, NaN, Infinity, -Infinity, "0", "16", 0n, 16n, null, undefined, {}] as unknown as number[];

  it("sysClockGettime, sysClockGetres, clockSettime, clockAdjtime: -EINVAL, never a coerced clock", async () => {
    const v = await booted();
    expectNoTrace(v, () => {
      for (const c of bad) {
        expect(v.k.sysClockGettime(c), String(c)).toBe(-EINVAL);
        expect(v.k.sysClockGetres(c), String(c)).toBe(-EINVAL);
        expect(v.k.clockSettime(c, { sec: 1_800_000_000n, nsec: 0n }), String(c)).toBe(-EINVAL);
        expect(v.k.clockAdjtime(c, timex({ modes: ADJ_SETOFFSET, time: { sec: 1n } })), String(c)).toBe(-EINVAL);
      }
      expect(v.k.sysClockGettime(16.0)).not.toBe(-EINVAL); // an integer-valued number is an id
    });
  });
});

describe("Kernel.create and startTicking check their options first", () => {
  it("counter, tickerPeriodNs, realtime: TypeError/RangeError naming the option, and no store is claimed", async () => {
    const memory = storeMemory();
    await expect(Kernel.create({ memory, counter: "bogus" as "virtual" })).rejects.toThrow(TypeError);
    await expect(Kernel.create({ memory, counter: "bogus" as "virtual" })).rejects.toThrow(/counter/);
    await expect(Kernel.create({ memory, counter: "virtual", tickerPeriodNs: -1 })).rejects.toThrow(/tickerPeriodNs/);
    await expect(Kernel.create({ memory, counter: "virtual", tickerPeriodNs: 1.5 })).rejects.toThrow(RangeError);
    await expect(Kernel.create({ memory, counter: "virtual", tickerPeriodNs: "5" as unknown as number })).rejects.toThrow(TypeError);
    await expect(Kernel.create({ memory, counter: "virtual", realtime: { sec: 1.5, nsec: 0 } })).rejects.toThrow(/realtime\.sec/);
    await expect(Kernel.create({ memory, counter: "virtual", realtime: { sec: -1n, nsec: 0n } })).rejects.toThrow(RangeError);
    await expect(Kernel.create({ memory: 5 as unknown as boolean, counter: "virtual" })).rejects.toThrow(/memory/);
    // nothing was made: the memory's store has no writer yet
    const k = await Kernel.create({ memory, counter: "virtual", realtime: EPOCH });
    expect(k.sysClockGettime(CLOCK_REALTIME)).toEqual(EPOCH);
    k.close();
  });

  it("startTicking(hz): a positive finite number up to 10000, else RangeError (TypeError for a non-number); a refused call keeps the ticker", async () => {
    const { k } = await virtualKernel();
    onTestFinished(() => k.close());
    const ticks = countTicks(k);
    k.startTicking(1000);
    for (const hz of [0, -1, NaN, Infinity, 10_001]) expect(() => k.startTicking(hz), String(hz)).toThrow(RangeError);
    expect(() => k.startTicking("250" as unknown as number)).toThrow(TypeError);
    await new Promise((r) => setTimeout(r, 100));
    expect(ticks()).toBeGreaterThan(5);
    k.stopTicking();
  });
});

describe("real time: refusals and number fields leave the host-timer tick working", () => {
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  afterEach(() => {
    process.off("uncaughtException", onError);
  });

  it("after each probed call, a reading 2 s later has advanced by ~2 s and no exception escaped", async () => {
    process.on("uncaughtException", onError);
    const k = await Kernel.create({ counter: "host-call" });
    onTestFinished(() => k.close());
    const r = await createReader(k);
    onTestFinished(() => r.close());
    k.auxClockEnable(0, true);
    k.startTicking();
    const seq = () => k.store.getU32(k.store.time);
    // accepted with numbers (each used to kill the next second's tick)
    expect(k.adjtimex({ modes: ADJ_MAXERROR, maxerror: 100 })).toBeGreaterThanOrEqual(0);
    expect(k.adjtimex({ modes: ADJ_MAXERROR })).toBeGreaterThanOrEqual(0);
    expect(k.adjtimex({ modes: ADJ_OFFSET_SINGLESHOT, offset: 1000 })).toBeGreaterThanOrEqual(0);
    expect(k.adjtimex({ modes: ADJ_TIMECONST, constant: 5 })).toBeGreaterThanOrEqual(0);
    expect(k.adjtimex({ modes: ADJ_TICK, tick: 10000 })).toBeGreaterThanOrEqual(0);
    expect(k.adjtimex({ modes: ADJ_FREQUENCY, freq: 0 })).toBeGreaterThanOrEqual(0);
    expect(k.clockAdjtime(CLOCK_AUX, { modes: ADJ_MAXERROR, maxerror: 100 })).toBeGreaterThanOrEqual(0);
    // refused without a trace
    const s0 = seq();
    expect(s0 % 2).toBe(0);
    expect(() => k.adjtimex({ modes: ADJ_TAI, constant: 1.5 })).toThrow(RangeError);
    expect(() => k.adjtimex({ modes: ADJ_SETOFFSET | ADJ_FREQUENCY, time: { sec: 5, usec: 0 }, freq: NaN })).toThrow(RangeError);
    expect(() => k.adjtimex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: 5, usec: NaN } })).toThrow(RangeError);
    expect(seq()).toBe(s0);
    // Each reading bracketed by two host readings, so a pause between them cannot fail the test.
    const hostNow = () => process.hrtime.bigint();
    const bracket = (c: number) => {
      const lo = hostNow();
      const t = vdsoNs(r, c);
      return { lo, t, hi: hostNow() };
    };
    const rt0 = bracket(CLOCK_REALTIME);
    const aux0 = bracket(CLOCK_AUX);
    await new Promise((res) => setTimeout(res, 2000));
    const rt1 = bracket(CLOCK_REALTIME);
    const aux1 = bracket(CLOCK_AUX);
    expect(rt1.lo - rt0.hi).toBeGreaterThanOrEqual(2n * SEC - 10_000_000n);
    // advanced by the host's ~2 s, give or take the 1 ms slew asked for and 1 ms of the two counters' rates
    for (const [a, b] of [[rt0, rt1], [aux0, aux1]]) {
      expect(b.t - a.t).toBeGreaterThanOrEqual(b.lo - a.hi - 2_000_000n);
      expect(b.t - a.t).toBeLessThanOrEqual(b.hi - a.lo + 2_000_000n);
    }
    // TAI offset unchanged (0): TAI read between two REALTIME readings lies between them
    const [a1, t1, a2] = [CLOCK_REALTIME, CLOCK_TAI, CLOCK_REALTIME].map((c) => vdsoNs(r, c));
    expect(a1 <= t1 && t1 <= a2, `${a1} <= ${t1} <= ${a2}`).toBe(true);
    expect(seq() % 2).toBe(0);
    expect(seq()).toBeGreaterThan(s0 + 2 * 250); // it ticked, ~500 updates
    expect(k.store.getU32(k.store.time + 464 + vdso_clock.seq) % 2).toBe(0);
    expect(errors).toEqual([]);
  }, 10_000);
});
