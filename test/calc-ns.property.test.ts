// The counter-to-nanoseconds path of the wasm reader against an exact BigInt
// model of x86 vdso_calc_ns, over the whole u64 range (the testing build
// exports the primitives; the shipped module does not).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { vdso_clock_mode } from "../assembly/layout.ts";
import { Vdso } from "../src/wasm.ts";
import { clockAt, RecordingSyscalls, TIME_PAGE, writeClock } from "./helpers/pages.ts";
import { testingExports } from "./helpers/testing.ts";

const M64 = (1n << 64n) - 1n;
const S64_MAX = (1n << 63n) - 1n;
const BIT62 = 1n << 62n;

/** x86 vdso_calc_ns, with a 128-bit product where the kernel has one. */
function calcNsRef(cycles: bigint, last: bigint, max: bigint, mult: bigint, shift: bigint, base: bigint): bigint {
  const delta = (cycles - last) & M64;
  const sh = shift & 63n; // x86 (and wasm) 64-bit shifts take the count mod 64
  if (delta > max) {
    if (delta & BIT62) return base >> sh;
    return (((delta & S64_MAX) * mult + base) >> shift) & M64;
  }
  return ((delta * mult + base) & M64) >> sh;
}

const u64 = fc.bigInt({ min: 0n, max: M64 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const realisticMax = fc.constantFrom(0x256becde448n, 0x7fffffffn, 0n, M64);
/** Deltas that land on every branch: small, at and around max_cycles, bit 62 set or not, anything. */
const deltaFor = (max: bigint) =>
  fc.oneof(
    fc.bigInt({ min: 0n, max: max < 1000000n ? max : 1000000n }),
    fc.constantFrom(max, (max + 1n) & M64, (max - 1n) & M64),
    fc.bigInt({ min: 0n, max: BIT62 - 1n }),
    fc.bigInt({ min: BIT62, max: M64 }),
    u64,
  );

describe("vdso_calc_ns in wasm vs BigInt reference", () => {
  it("agrees for 100000 random clocks, counters and deltas", async () => {
    const vdso = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls(), build: "testing" });
    const t = testingExports(vdso);
    const vc = clockAt(TIME_PAGE, 0);
    const branches = { fast: 0, slow: 0, clamp: 0 };
    const clockAndCounter = fc
      .tuple(u64, fc.oneof(realisticMax, u64), u32, fc.integer({ min: 0, max: 63 }), u64)
      .chain(([last, max, mult, shift, base]) => deltaFor(max).map((delta) => ({ last, max, mult, shift, base, delta })));
    fc.assert(
      fc.property(clockAndCounter, ({ last, max, mult, shift, base, delta }) => {
        const cycles = (last + delta) & M64;
        writeClock(vdso.memory, vc, { mode: vdso_clock_mode.TSC, cycle_last: last, max_cycles: max, mult, shift });
        const got = t.vdso_calc_ns(vc, BigInt.asIntN(64, cycles), BigInt.asIntN(64, base));
        if (delta <= max) branches.fast++;
        else if (delta & BIT62) branches.clamp++;
        else branches.slow++;
        expect(BigInt.asUintN(64, got)).toBe(calcNsRef(cycles, last, max, BigInt(mult), BigInt(shift), base));
      }),
      { numRuns: 100_000 },
    );
    // Every branch of the kernel's algorithm was exercised many times.
    expect(branches.fast).toBeGreaterThan(10_000);
    expect(branches.slow).toBeGreaterThan(10_000);
    expect(branches.clamp).toBeGreaterThan(10_000);
  });

  it("mul_u64_u32_add_u64_shr is the exact 128-bit result for every shift", async () => {
    const vdso = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls(), build: "testing" });
    const t = testingExports(vdso);
    fc.assert(
      fc.property(u64, u32, u64, fc.integer({ min: 0, max: 127 }), (a, mul, b, shift) => {
        const got = BigInt.asUintN(64, t.mul_u64_u32_add_u64_shr(BigInt.asIntN(64, a), mul, BigInt.asIntN(64, b), shift));
        expect(got).toBe(((a * BigInt(mul) + b) >> BigInt(shift)) & M64);
      }),
      { numRuns: 100_000 },
    );
  });
});
