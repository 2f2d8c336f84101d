// Longer than ~350 lines on purpose: one file per subsystem (the reader), one
// describe per behaviour, each with hand-written pages.
// The wasm reader on hand-written pages: dispatch, fallbacks with the kernel's
// answers, time namespaces, the seqlock, counter modes, and bad pointers.
import { beforeEach, describe, expect, it } from "vitest";
import {
  CLOCK_AUX,
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC,
  CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW,
  CLOCK_REALTIME,
  CLOCK_REALTIME_COARSE,
  CLOCK_TAI,
  EFAULT,
  EINVAL,
  ENODEV,
  LOW_RES_NSEC,
  NO_PAGE,
  READER_SLOT_SIZE,
  reader_slot,
  PVCLOCK_TSC_STABLE_BIT,
  STORE_END,
  STORE_START,
  ms_hyperv_tsc_page as hv,
  pvclock_vcpu_time_info as pv,
  vdso_arch_data,
  vdso_clock,
  vdso_clock_mode,
  vdso_time_data,
} from "../assembly/layout.ts";
import { Vdso } from "../src/wasm.ts";
import { testingExports } from "./helpers/testing.ts";
import {
  ARCH_PAGE, auxAt, clearStore, clockAt, PAGE, PVCLOCK_PAGE, REAL_PAGE, RecordingSyscalls, RNG_PAGE, TIME_PAGE, writeClock,
} from "./helpers/pages.ts";

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const SHIFT = 24;
const MULT = 1 << SHIFT; // 1 cycle = 1 ns: easy numbers
const sh = (ns: bigint) => ns << BigInt(SHIFT);

let counter = 0n;
let sys: RecordingSyscalls;
let vdso: Vdso;

/** A root-namespace page: every vDSO clock at a distinct base, cycle_last 1000. */
function rootPage(page: number, mode = vdso_clock_mode.TSC) {
  writeClock(vdso.memory, clockAt(page, 0), {
    mode, cycle_last: 1000n, max_cycles: 1n << 40n, mult: MULT, shift: SHIFT,
    base: {
      [CLOCK_REALTIME]: [1_700_000_000n, sh(999_999_000n)],
      [CLOCK_MONOTONIC]: [500n, sh(100n)],
      [CLOCK_BOOTTIME]: [600n, sh(200n)],
      [CLOCK_TAI]: [1_700_000_037n, sh(999_999_000n)],
      [CLOCK_REALTIME_COARSE]: [1_699_999_999n, 990_000_000n],
      [CLOCK_MONOTONIC_COARSE]: [499n, 990_000_000n],
    },
  });
  writeClock(vdso.memory, clockAt(page, 1), {
    mode, cycle_last: 1000n, max_cycles: 1n << 40n, mult: MULT, shift: SHIFT, base: { [CLOCK_MONOTONIC_RAW]: [400n, sh(300n)] },
  });
  const d = vdso.view;
  d.setUint32(page + vdso_time_data.hrtimer_res, 1, true);
  d.setInt32(page + vdso_time_data.tz_minuteswest, -120, true);
  d.setInt32(page + vdso_time_data.tz_dsttime, 1, true);
}

beforeEach(async () => {
  sys = new RecordingSyscalls();
  vdso ??= await Vdso.create({ counter: () => counter, syscalls: sys });
  vdso.syscalls = sys;
  vdso.counter = () => counter;
  clearStore(vdso.memory);
  rootPage(TIME_PAGE);
  vdso.bind({ time: TIME_PAGE, rng: RNG_PAGE, arch: ARCH_PAGE, pvclock: PVCLOCK_PAGE });
  counter = 1000n + 2000n; // 2000 ns after the last update
});

describe("clock_gettime in the vDSO", () => {
  it("high-res clocks: base + elapsed counter, normalised", () => {
    expect(vdso.clockGettime(CLOCK_REALTIME)).toEqual({ ret: 0, ts: { sec: 1_700_000_001n, nsec: 1000n } });
    expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: { sec: 500n, nsec: 2100n } });
    expect(vdso.clockGettime(CLOCK_BOOTTIME)).toEqual({ ret: 0, ts: { sec: 600n, nsec: 2200n } });
    expect(vdso.clockGettime(CLOCK_TAI)).toEqual({ ret: 0, ts: { sec: 1_700_000_038n, nsec: 1000n } });
    expect(vdso.clockGettime(CLOCK_MONOTONIC_RAW)).toEqual({ ret: 0, ts: { sec: 400n, nsec: 2300n } });
    expect(sys.calls).toEqual([]);
  });

  it("coarse clocks: the stored value, no counter read", () => {
    vdso.counter = () => {
      throw new Error("coarse clocks must not read the counter");
    };
    expect(vdso.clockGettime(CLOCK_REALTIME_COARSE)).toEqual({ ret: 0, ts: { sec: 1_699_999_999n, nsec: 990_000_000n } });
    expect(vdso.clockGettime(CLOCK_MONOTONIC_COARSE)).toEqual({ ret: 0, ts: { sec: 499n, nsec: 990_000_000n } });
  });

  it("normalises many seconds of nanoseconds (quotient as the kernel's u32 loop)", () => {
    counter = 1000n + 7_500_000_000n;
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 507n, nsec: 500_000_100n });
  });

  it("an aux clock with a counter mode is read in the vDSO from basetime[0]", () => {
    writeClock(vdso.memory, auxAt(TIME_PAGE, 3), { mode: vdso_clock_mode.TSC, cycle_last: 1000n, max_cycles: 1n << 40n, mult: MULT, shift: SHIFT, base: { 0: [42n, sh(5n)] } });
    expect(vdso.clockGettime(CLOCK_AUX + 3)).toEqual({ ret: 0, ts: { sec: 42n, nsec: 2005n } });
    expect(sys.calls).toEqual([]);
  });
});

describe("fallback: the syscall answers, as Linux's vDSO defers to it", () => {
  const table: Array<[number, number]> = [
    [-1, -EINVAL], [INT_MIN, -EINVAL], [INT_MAX, -EINVAL], [24, -EINVAL], [10, -EINVAL],
    [12, -EINVAL], [13, -EINVAL], [14, -EINVAL], [15, -EINVAL],
    // CPU-time and alarm clocks are valid: the kernel answers them, just not in the vDSO.
    [2, 0], [3, 0], [8, 0], [9, 0],
  ];
  for (const [clock, ret] of table) {
    it(`clock_gettime(${clock}) -> ${ret}`, () => {
      const r = vdso.clockGettime(clock);
      expect(r.ret).toBe(ret);
      if (ret === 0) expect(r.ts).toEqual(sys.answer);
      expect(sys.calls).toEqual([["clock_gettime", clock]]);
    });
    it(`clock_getres(${clock}) -> ${ret}`, () => {
      expect(vdso.clockGetres(clock).ret).toBe(ret);
      expect(sys.calls).toEqual([["clock_getres", clock]]);
    });
  }

  it("a disabled aux clock (mode NONE) goes to the syscall: ENODEV", () => {
    sys.aux = (clock) => (clock >= CLOCK_AUX ? -ENODEV : 0);
    for (let n = 0; n < 8; n++) expect(vdso.clockGettime(CLOCK_AUX + n).ret).toBe(-ENODEV);
    expect(sys.calls.length).toBe(8);
  });

  it("an invalid counter (mode NONE, HVCLOCK without its page, unknown) goes to the syscall", () => {
    for (const mode of [vdso_clock_mode.NONE, vdso_clock_mode.HVCLOCK, 99]) {
      sys.calls = [];
      rootPage(TIME_PAGE, mode);
      expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: sys.answer });
      expect(sys.calls).toEqual([["clock_gettime", CLOCK_MONOTONIC]]);
      // coarse clocks never fall back
      expect(vdso.clockGettime(CLOCK_MONOTONIC_COARSE).ts).toEqual({ sec: 499n, nsec: 990_000_000n });
    }
  });

  it("a counter with the sign bit set is masked away for TSC (x86 & S64_MAX)", () => {
    counter = (1n << 63n) | 3000n;
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 500n, nsec: 2100n });
  });

  it("gettimeofday falls back with both tv and tz when the counter is invalid", () => {
    rootPage(TIME_PAGE, vdso_clock_mode.NONE);
    expect(vdso.gettimeofday()).toEqual({ ret: 0, sec: 555n, usec: 7n, minuteswest: -60, dsttime: 1 });
    expect(sys.calls).toEqual([["gettimeofday", 0]]);
  });
});

describe("getres, gettimeofday, time", () => {
  it("clock_getres: hrtimer_res, LOW_RES_NSEC, 1 ns for aux clocks", () => {
    vdso.view.setUint32(TIME_PAGE + vdso_time_data.hrtimer_res, 7, true);
    for (const c of [0, 1, 4, 7, 11]) expect(vdso.clockGetres(c)).toEqual({ ret: 0, ts: { sec: 0n, nsec: 7n } });
    for (const c of [5, 6]) expect(vdso.clockGetres(c)).toEqual({ ret: 0, ts: { sec: 0n, nsec: BigInt(LOW_RES_NSEC) } });
    for (let n = 0; n < 8; n++) expect(vdso.clockGetres(CLOCK_AUX + n)).toEqual({ ret: 0, ts: { sec: 0n, nsec: 1n } });
    expect(vdso.exports.clock_getres(CLOCK_MONOTONIC, 0)).toBe(0); // NULL res is allowed
    expect(sys.calls).toEqual([]);
  });

  it("gettimeofday: usec from REALTIME, tz from the page", () => {
    counter = 1000n + 1_234_567n;
    expect(vdso.gettimeofday()).toEqual({ ret: 0, sec: 1_700_000_001n, usec: 1233n, minuteswest: -120, dsttime: 1 });
    expect(vdso.exports.gettimeofday(0, 0)).toBe(0);
  });

  it("time(): seconds of basetime[REALTIME], without the counter", () => {
    vdso.counter = () => {
      throw new Error("time() must not read the counter");
    };
    expect(vdso.time()).toBe(1_700_000_000n);
  });
});

describe("time namespaces", () => {
  const MONO_OFF: [bigint, bigint] = [1000n, 999_999_999n];
  const BOOT_OFF: [bigint, bigint] = [-100n, 5n];
  beforeEach(() => {
    // Page 0 is the namespace page (seq 1, mode TIMENS, offsets), page 1 the real data.
    clearStore(vdso.memory);
    rootPage(REAL_PAGE);
    for (const cs of [0, 1]) {
      writeClock(vdso.memory, clockAt(TIME_PAGE, cs), {
        seq: 1, mode: vdso_clock_mode.TIMENS, mask: 0n,
        base: { 1: MONO_OFF, 4: MONO_OFF, 6: MONO_OFF, 7: BOOT_OFF, 9: BOOT_OFF },
      });
    }
    for (let n = 0; n < 8; n++) writeClock(vdso.memory, auxAt(TIME_PAGE, n), { seq: 1, mode: vdso_clock_mode.TIMENS, mask: 0n });
    writeClock(vdso.memory, auxAt(REAL_PAGE, 0), { mode: vdso_clock_mode.TSC, cycle_last: 1000n, max_cycles: 1n << 40n, mult: MULT, shift: SHIFT, base: { 0: [42n, 0n] } });
    vdso.bind({ time: TIME_PAGE, real: REAL_PAGE, rng: RNG_PAGE });
  });

  it("MONOTONIC, RAW, MONOTONIC_COARSE, BOOTTIME are offset; REALTIME, TAI and aux are not", () => {
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 1501n, nsec: 2099n });
    expect(vdso.clockGettime(CLOCK_MONOTONIC_RAW).ts).toEqual({ sec: 1401n, nsec: 2299n });
    expect(vdso.clockGettime(CLOCK_MONOTONIC_COARSE).ts).toEqual({ sec: 1500n, nsec: 989_999_999n });
    expect(vdso.clockGettime(CLOCK_BOOTTIME).ts).toEqual({ sec: 500n, nsec: 2205n });
    expect(vdso.clockGettime(CLOCK_REALTIME).ts).toEqual({ sec: 1_700_000_001n, nsec: 1000n });
    expect(vdso.clockGettime(CLOCK_REALTIME_COARSE).ts).toEqual({ sec: 1_699_999_999n, nsec: 990_000_000n });
    expect(vdso.clockGettime(CLOCK_TAI).ts).toEqual({ sec: 1_700_000_038n, nsec: 1000n });
    expect(vdso.clockGettime(CLOCK_AUX).ts).toEqual({ sec: 42n, nsec: 2000n });
    expect(sys.calls).toEqual([]);
  });

  it("getres, tz and time() read the real page", () => {
    expect(vdso.clockGetres(CLOCK_MONOTONIC).ts).toEqual({ sec: 0n, nsec: 1n });
    expect(vdso.gettimeofday().minuteswest).toBe(-120);
    expect(vdso.time()).toBe(1_700_000_000n);
  });

  it("a namespace page without a real page bound falls back, never reads elsewhere", () => {
    vdso.bind({ time: TIME_PAGE });
    expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: sys.answer });
    expect(vdso.clockGettime(CLOCK_MONOTONIC_COARSE)).toEqual({ ret: 0, ts: sys.answer });
    expect(vdso.clockGettime(CLOCK_AUX).ret).toBe(0);
    expect(sys.calls.map((c) => c[1])).toEqual([CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_AUX]);
  });
});

describe("the seqlock", () => {
  it("retries when a writer ran during the read, and returns the new value", () => {
    const vc = clockAt(TIME_PAGE, 0);
    let reads = 0;
    vdso.counter = () => {
      reads++;
      if (reads === 1) {
        // A writer updates the clock while the reader holds the old values.
        const d = vdso.view;
        d.setUint32(vc + vdso_clock.seq, d.getUint32(vc + vdso_clock.seq, true) + 2, true);
        d.setBigUint64(vc + vdso_clock.basetime + 16 * CLOCK_MONOTONIC, 900n, true);
      }
      return counter;
    };
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 900n, nsec: 2100n });
    expect(reads).toBe(2);
  });

  it("waits out an odd seq; a writer that never finishes sends the reader to the syscall", () => {
    vdso.view.setUint32(clockAt(TIME_PAGE, 0) + vdso_clock.seq, 5, true);
    expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: sys.answer });
    expect(vdso.clockGettime(CLOCK_REALTIME_COARSE)).toEqual({ ret: 0, ts: sys.answer });
    expect(sys.calls.map((c) => c[1])).toEqual([CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE]);
    // The raw clock has its own clock_data and seq.
    expect(vdso.clockGettime(CLOCK_MONOTONIC_RAW).ts).toEqual({ sec: 400n, nsec: 2300n });
  });
});

describe("counter modes", () => {
  for (const mode of [vdso_clock_mode.SHARED_COUNTER, vdso_clock_mode.VIRTUAL])
  it(`mode ${mode} reads the counter word of the arch page, without a host call`, () => {
    rootPage(TIME_PAGE, mode);
    vdso.counter = () => {
      throw new Error("an arch counter mode must not call the host");
    };
    vdso.view.setBigUint64(ARCH_PAGE + vdso_arch_data.counter, 1000n + 50n, true);
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 500n, nsec: 150n });
    vdso.bind({ time: TIME_PAGE }); // no arch page mapped: invalid counter, syscall
    vdso.counter = () => counter;
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual(sys.answer);
  });

  it("PVCLOCK scales the TSC through the pvclock page (stable bit required)", () => {
    rootPage(TIME_PAGE, vdso_clock_mode.PVCLOCK);
    const d = vdso.view;
    d.setUint32(PVCLOCK_PAGE + pv.version, 4, true);
    d.setBigUint64(PVCLOCK_PAGE + pv.tsc_timestamp, 10_000n, true);
    d.setBigUint64(PVCLOCK_PAGE + pv.system_time, 1000n, true); // "cycles" are pvclock ns
    d.setUint32(PVCLOCK_PAGE + pv.tsc_to_system_mul, 0x80000000, true); // x0.5
    d.setInt8(PVCLOCK_PAGE + pv.tsc_shift, 1); // x2
    d.setUint8(PVCLOCK_PAGE + pv.flags, PVCLOCK_TSC_STABLE_BIT);
    counter = 10_000n + 777n; // TSC
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 500n, nsec: 100n + 777n });
    d.setInt8(PVCLOCK_PAGE + pv.tsc_shift, -1);
    counter = 10_000n + 800n;
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual({ sec: 500n, nsec: 100n + 200n });
    d.setUint8(PVCLOCK_PAGE + pv.flags, 0);
    expect(vdso.clockGettime(CLOCK_MONOTONIC).ts).toEqual(sys.answer);
  });
});

describe("Hyper-V TSC page (HVCLOCK)", () => {
  const HV = PVCLOCK_PAGE + PAGE;
  it("scales the TSC through the page: (tsc * scale) >> 64 + offset; sequence 0 means invalid", () => {
    rootPage(TIME_PAGE, vdso_clock_mode.HVCLOCK);
    vdso.bind({ time: TIME_PAGE, hvclock: HV });
    const d = vdso.view;
    d.setUint32(HV + hv.tsc_sequence, 3, true);
    d.setBigUint64(HV + hv.tsc_scale, 1n << 63n, true); // x0.5
    d.setBigInt64(HV + hv.tsc_offset, 100n, true);
    counter = 2n * (1000n + 300n - 100n); // reference counter = tsc/2 + 100 = cycle_last + 300
    expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: { sec: 500n, nsec: 400n } });
    d.setUint32(HV + hv.tsc_sequence, 0, true);
    expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: sys.answer });
    vdso.bind({ time: TIME_PAGE }); // no Hyper-V page mapped: syscall
    d.setUint32(HV + hv.tsc_sequence, 3, true);
    expect(vdso.clockGettime(CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: sys.answer });
  });

  it("mul_u64_u64_hi is the high half of the 128-bit product", async () => {
    const t = await Vdso.create({ counter: () => 0n, syscalls: sys, build: "testing" });
    const M = (1n << 64n) - 1n;
    let x = 0x9e3779b97f4a7c15n;
    for (let i = 0; i < 10000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & M;
      const a = x;
      x = (x * 6364136223846793005n + 1442695040888963407n) & M;
      const b = i % 100 === 0 ? M : x;
      expect(BigInt.asUintN(64, testingExports(t).mul_u64_u64_hi(BigInt.asIntN(64, a), BigInt.asIntN(64, b)))).toBe((a * b) >> 64n);
    }
  });
});

describe("the reader never leaves its view", () => {
  it("bind refuses pages that are misaligned, outside the store or absent", () => {
    for (const bad of [0, 1, STORE_START + 8, STORE_END, STORE_END - 1, 0x7fff0000]) {
      expect(() => vdso.bind({ time: bad })).toThrow(RangeError);
      expect(() => vdso.bind({ time: TIME_PAGE, real: bad })).toThrow(RangeError);
    }
    expect(() => vdso.bind({ time: NO_PAGE })).toThrow(RangeError);
    vdso.bind({ time: STORE_END - PAGE });
  });

  it("result pointers inside the store or past memory get -EFAULT and write nothing", () => {
    const before = new Uint8Array(vdso.memory.buffer, STORE_START, 2 * PAGE).slice();
    const end = vdso.memory.buffer.byteLength;
    for (const p of [TIME_PAGE, TIME_PAGE + 40, STORE_END - 8, end - 4, end, 0xfffffff8]) {
      expect(vdso.exports.clock_gettime(CLOCK_MONOTONIC, p)).toBe(-EFAULT);
      expect(vdso.exports.clock_getres(CLOCK_MONOTONIC, p)).toBe(-EFAULT);
      expect(vdso.exports.gettimeofday(p, 0)).toBe(-EFAULT);
      expect(vdso.exports.gettimeofday(0, p)).toBe(-EFAULT);
    }
    expect(vdso.exports.clock_gettime(CLOCK_MONOTONIC, 0)).toBe(-EFAULT);
    expect(new Uint8Array(vdso.memory.buffer, STORE_START, 2 * PAGE)).toEqual(before);
    expect(sys.calls).toEqual([]);
  });

  it("inside its own slot only the result and chunk areas take results (not its getrandom state or counters)", () => {
    const s = vdso.scratch;
    const slotBefore = new Uint8Array(vdso.memory.buffer, s, READER_SLOT_SIZE).slice();
    for (const p of [s + reader_slot.getrandom_state, s + reader_slot.give_ups, s + reader_slot.getrandom_state - 8, s + reader_slot.chunk - 8, s + READER_SLOT_SIZE - 8, s + READER_SLOT_SIZE]) {
      expect(vdso.exports.clock_gettime(CLOCK_MONOTONIC, p), `slot + ${p - s}`).toBe(-EFAULT);
    }
    expect(new Uint8Array(vdso.memory.buffer, s, READER_SLOT_SIZE)).toEqual(slotBefore);
    expect(vdso.exports.clock_gettime(CLOCK_MONOTONIC, s + reader_slot.result)).toBe(0);
    expect(vdso.exports.clock_gettime(CLOCK_MONOTONIC, s + reader_slot.chunk)).toBe(0);
  });

  it("a slot is set once: an instance cannot be moved onto another reader's slot", async () => {
    const v = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls() });
    expect(v.exports.set_slot(v.scratch + READER_SLOT_SIZE)).toBe(-1);
    expect(v.exports.set_slot(0)).toBe(0);
    expect(v.exports.set_slot(v.scratch)).toBe(-1); // 0 is final
  });
});

describe("the value-returning exports (nowNs, nowF64, WASI) agree with clock_gettime", () => {
  const ids = [INT_MIN, -1, ...Array.from({ length: 25 }, (_, i) => i), 31, 32, 33, 100, INT_MAX];
  const expected = (clock: number): bigint => {
    const r = vdso.clockGettime(clock);
    return r.ret === 0 ? r.ts!.sec * 1_000_000_000n + r.ts!.nsec : BigInt(r.ret);
  };
  const check = (what: string, clocks = ids) => {
    for (const clock of clocks) {
      const want = expected(clock);
      expect(vdso.exports.clock_gettime_ns(clock), `${what}: nowNs(${clock})`).toBe(want);
      expect(vdso.exports.clock_gettime_f64(clock), `${what}: nowF64(${clock})`).toBe(Number(want));
    }
  };
  const situations: Array<[string, () => void, number[]?]> = [
    ["root page", () => {}],
    ["an update 7.5 s late (the timespec path normalises)", () => (counter = 1000n + 7_500_000_000n)],
    ["the counter behind cycle_last (bit 62 clamp)", () => (counter = 999n)],
    ["an odd seq that never clears (stuck writer: the syscall)", () => vdso.view.setUint32(clockAt(TIME_PAGE, 0) + vdso_clock.seq, 3, true), [CLOCK_MONOTONIC]],
    ["an invalid counter mode (the syscall)", () => vdso.view.setInt32(clockAt(TIME_PAGE, 0) + vdso_clock.clock_mode, 99, true)],
    ["an enabled aux clock", () => writeClock(vdso.memory, auxAt(TIME_PAGE, 2), { mode: vdso_clock_mode.TSC, cycle_last: 1000n, max_cycles: 1n << 40n, mult: MULT, shift: SHIFT, base: { 0: [9n, 0n] } })],
    ["a time namespace", () => {
      clearStore(vdso.memory);
      rootPage(REAL_PAGE);
      for (const cs of [0, 1]) writeClock(vdso.memory, clockAt(TIME_PAGE, cs), { seq: 1, mode: vdso_clock_mode.TIMENS, mask: 0n, base: { 1: [1000n, 999_999_999n], 7: [-100n, 5n] } });
      for (let n = 0; n < 8; n++) writeClock(vdso.memory, auxAt(TIME_PAGE, n), { seq: 1, mode: vdso_clock_mode.TIMENS, mask: 0n });
      vdso.bind({ time: TIME_PAGE, real: REAL_PAGE, rng: RNG_PAGE });
    }],
  ];
  for (const [what, setup, clocks] of situations) {
    it(what, () => {
      setup();
      check(what, clocks);
    });
  }
});

describe("a reader never bound to a view", () => {
  it("answers every call through the syscalls and reads no page", async () => {
    const rec = new RecordingSyscalls();
    const fresh = await Vdso.create({ counter: () => 5000n, syscalls: rec });
    for (const clock of [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_AUX + 1]) {
      expect(fresh.clockGettime(clock)).toEqual({ ret: 0, ts: rec.answer });
      expect(fresh.exports.clock_gettime_ns(clock)).toBe(777_000_000_123n);
      expect(fresh.clockGetres(clock)).toEqual({ ret: 0, ts: { sec: 0n, nsec: 1n } });
    }
    expect(fresh.gettimeofday()).toMatchObject({ ret: 0, sec: 555n, usec: 7n, minuteswest: -60 });
    expect(fresh.time()).toBe(777n); // no page to read: the clock_gettime(REALTIME) syscall's seconds
    expect(rec.calls.length).toBe(6 * 3 + 2);
  });
});
