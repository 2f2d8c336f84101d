// The tick's number path (Timekeeper.advance for a tick, update_vsyscall and
// vdso_time_update_aux from the cells) against the bigint path it shortcuts:
// the same operations on two kernels, one with Timekeeper.numbers off, leave
// every byte of both stores equal (the writer's host-clock heartbeat aside);
// and single timekeepers put in extreme states advance to the same fields.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CLOCK_AUX, VDSO_BASE_AUX, vdso_arch_data, vdso_clock, vdso_timestamp } from "../assembly/layout.ts";
import { DataStore, storeMemory } from "../src/datastore.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { Timekeeper } from "../src/kernel/timekeeper.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_OFFSET, ADJ_SETOFFSET, ADJ_STATUS, ADJ_TICK, STA_DEL, STA_INS, STA_PLL } from "../src/kernel/timex.ts";
import { auxClockAt, updateVsyscall, vdsoTimeUpdateAux } from "../src/kernel/vsyscall.ts";

/** Runs `f` with the number path on or off. */
function withNumbers<T>(on: boolean, f: () => T): T {
  const was = Timekeeper.numbers;
  Timekeeper.numbers = on;
  try {
    return f();
  } finally {
    Timekeeper.numbers = was;
  }
}

/** A store's four pages, heartbeat zeroed. */
function pages(k: Kernel): Uint8Array {
  const b = new Uint8Array(k.memory.buffer, k.store.base, 4 * 4096).slice();
  const hb = k.store.arch - k.store.base + vdso_arch_data.heartbeat_ns;
  return b.fill(0, hb, hb + 8);
}

type Op =
  | { t: "tick"; ns: number }
  | { t: "freq"; clock: number; ppm: number }
  | { t: "pll"; clock: number; offset: number }
  | { t: "step"; clock: number; sec: number; nsec: number }
  | { t: "leap"; ins: boolean }
  | { t: "tick_usec"; usec: number }
  | { t: "enable"; idx: number; on: boolean };

const clock = fc.constantFrom(0, 0, CLOCK_AUX, CLOCK_AUX + 1, CLOCK_AUX + 6);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ t: fc.constant("tick" as const), ns: fc.oneof(fc.constantFrom(4_000_000, 20_000_000, 3_999_999, 8_000_001), fc.integer({ min: 0, max: 120_000_000 }), fc.integer({ min: 0, max: 5e9 })) }) },
  fc.record({ t: fc.constant("freq" as const), clock, ppm: fc.integer({ min: -500, max: 500 }) }),
  fc.record({ t: fc.constant("pll" as const), clock, offset: fc.integer({ min: -500_000, max: 500_000 }) }),
  fc.record({ t: fc.constant("step" as const), clock, sec: fc.integer({ min: -2, max: 2 }), nsec: fc.integer({ min: 0, max: 999_999_999 }) }),
  fc.record({ t: fc.constant("leap" as const), ins: fc.boolean() }),
  fc.record({ t: fc.constant("tick_usec" as const), usec: fc.integer({ min: 9000, max: 11000 }) }),
  fc.record({ t: fc.constant("enable" as const), idx: fc.integer({ min: 0, max: 7 }), on: fc.boolean() }),
);

function apply(k: Kernel, o: Op): void {
  const adj = (txc: object) => (o.t !== "leap" && o.t !== "tick_usec" && "clock" in o && o.clock !== 0 ? k.clockAdjtime(o.clock, txc) : k.adjtimex(txc));
  switch (o.t) {
    case "tick":
      (k.cs as VirtualClocksource).advanceNs(o.ns);
      k.tick();
      return;
    case "freq":
      adj({ modes: ADJ_FREQUENCY, freq: BigInt(o.ppm) * 65536n });
      return;
    case "pll":
      adj({ modes: ADJ_STATUS | ADJ_OFFSET | ADJ_NANO, status: STA_PLL, offset: BigInt(o.offset) });
      return;
    case "step":
      adj({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: BigInt(o.sec), usec: BigInt(o.nsec) } });
      return;
    case "leap":
      k.adjtimex({ modes: ADJ_STATUS, status: o.ins ? STA_INS : STA_DEL });
      return;
    case "tick_usec":
      k.adjtimex({ modes: ADJ_TICK, tick: BigInt(o.usec) });
      return;
    case "enable":
      k.auxClockEnable(o.idx, o.on);
  }
}

describe("the tick's number path is the bigint path", () => {
  it("two kernels, one without the number path, publish the same bytes after every operation", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Mostly where the number path applies (1 GHz, counter below 2^53), also across 2^53 and where it never does.
        fc.constantFrom(1_000_000_000, 1_000_000_000, 1_000_000_000, 24_000_000, 3_000_000_000),
        fc.constantFrom(0n, 1n << 40n, 1n << 40n, (1n << 53n) - 300_000_000n, (1n << 64n) - 3_000_000_000n),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: -500, max: 500 }),
        fc.array(op, { minLength: 1, maxLength: 120 }),
        async (freq, start, nsec, ppm, ops) => {
          const make = () => Kernel.create({ clocksource: new VirtualClocksource(freq, start), realtime: { sec: 1_700_000_000n, nsec: BigInt(nsec) } });
          const [a, b] = [await make(), await make()];
          // Steered from the start, so mult (and with it xtime_nsec's low bits) moves.
          ops = [{ t: "freq", clock: 0, ppm }, { t: "freq", clock: CLOCK_AUX, ppm: -ppm }, ...ops];
          for (const k of [a, b]) for (let i = 0; i < 8; i += 2) k.auxClockEnable(i, true);
          for (const [i, o] of ops.entries()) {
            withNumbers(true, () => apply(a, o));
            withNumbers(false, () => apply(b, o));
            expect(pages(a), `after op ${i}: ${JSON.stringify(o)}`).toEqual(pages(b));
          }
          a.close();
          b.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a timekeeper put in an extreme state advances to the same fields and publishes the same bytes", () => {
    const M53 = 2 ** 53;
    const memories = [storeMemory(), storeMemory()];
    const big = (lo: number, hi: number) => fc.oneof(fc.integer({ min: lo, max: hi }).map(BigInt), fc.bigInt({ min: BigInt(lo) - 4n, max: BigInt(hi) + 4n }));
    fc.assert(
      fc.property(
        fc.record({
          cycleLast: fc.oneof(big(0, 1e12), big(M53 - 1e8, M53 + 1e8)),
          offset: fc.oneof(fc.integer({ min: 0, max: 100_000_000 }), fc.integer({ min: 3_999_000, max: 4_001_000 })),
          xtimeNsec: fc.oneof(big(0, 1e9 * 2 ** 23), big(1e9 * 2 ** 23 - 1e14, 1e9 * 2 ** 23 + 1e14), big(-1e12, 0)),
          rawNsec: big(0, 1e9 * 2 ** 23),
          xtimeSec: fc.oneof(big(0, 2e9), big(M53 - 10, M53 + 10)),
          ntpError: fc.oneof(big(-1e12, 1e12), big(-(2 ** 53), 2 ** 53)),
          multDelta: fc.integer({ min: -5000, max: 5000 }),
          errMult: fc.boolean(),
          tickLenDelta: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(1n << 40n), max: 1n << 40n })),
          offsAux: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n })),
          w2mSec: fc.oneof(big(-2e9, 2e9), big(-(2 ** 53), 2 ** 53)),
          w2mNsec: fc.integer({ min: 0, max: 999_999_999 }).map(BigInt),
          offsBoot: fc.bigInt({ min: 0n, max: 10n ** 17n }),
        }),
        (s) => {
          const run = (numbers: boolean) => {
            const cs = new VirtualClocksource(1_000_000_000, s.cycleLast);
            const tk = new Timekeeper(cs, true);
            tk.mono.xtimeNsec = s.xtimeNsec;
            tk.raw.xtimeNsec = s.rawNsec;
            tk.xtimeSec = s.xtimeSec;
            tk.rawSec = s.xtimeSec;
            tk.ntpError = s.ntpError;
            tk.mono.mult += BigInt(s.multDelta);
            tk.xtimeInterval += tk.cycleInterval * BigInt(s.multDelta);
            tk.ntpErrMult = s.errMult ? 1n : 0n;
            tk.ntp.tickLength += s.tickLenDelta;
            tk.offsAux = s.offsAux;
            tk.offsBoot = s.offsBoot;
            tk.wallToMonotonic = { sec: s.w2mSec, nsec: s.w2mNsec };
            cs.advance(BigInt(s.offset));
            const store = new DataStore(memories[numbers ? 0 : 1]);
            withNumbers(numbers, () => {
              tk.advance("tick");
              updateVsyscall(store, tk);
              vdsoTimeUpdateAux(store, 0, tk, true);
            });
            const fields = [tk.mono.cycleLast, tk.raw.cycleLast, tk.mono.xtimeNsec, tk.raw.xtimeNsec, tk.xtimeSec, tk.rawSec, tk.ntpError, tk.xtimeInterval, tk.mono.mult, tk.coarseNsec, tk.ntpErrMult, tk.skipSecondOverflow, tk.ntp.tickLength, tk.wallToMonotonic.sec, tk.taiOffset];
            return { fields, page: store.bytes(store.time, 4096).slice() };
          };
          const [a, b] = [run(true), run(false)];
          expect(a.fields).toEqual(b.fields);
          expect(a.page).toEqual(b.page);
        },
      ),
      { numRuns: 1000 },
    );
  });

  // Found in review: a sum that rounds to -2^53 looked safe after a +1 carry, and published a second off.
  it("a seconds sum past -2^53 before a carry is published exactly (aux basetime)", () => {
    const store = new DataStore(storeMemory());
    const tk = new Timekeeper(new VirtualClocksource(1e9, 0n), true);
    const h = 2n ** 52n;
    tk.xtimeSec = -h;
    tk.mono.xtimeNsec = 999_999_999n << 23n;
    tk.offsAux = (-h - 1n) * 1_000_000_000n + 5n; // -(2^52 + 1) s + 5 ns: the exact second is -2^53
    vdsoTimeUpdateAux(store, 0, tk, true);
    const bt = auxClockAt(store.time, 0) + vdso_clock.basetime + VDSO_BASE_AUX * vdso_timestamp.SIZE;
    expect(BigInt.asIntN(64, store.getU64(bt))).toBe(-(2n ** 53n));
  });
});
