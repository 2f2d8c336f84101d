// Clocksource arithmetic against the kernel's own numbers in the public snapshots.
import { describe, expect, it } from "vitest";
import { clocksCalcMaxNsecs, clocksCalcMultShift, clocksourceMaxAdjustment, clocksourceParams, hostClocksource, VirtualClocksource } from "../src/kernel/clocksource.ts";

describe("clocksource", () => {
  it("max_cycles of the snapshot kernel's TSC (mult 6462414, shift 24) is 0x256becde448", () => {
    const mult = 6462414n;
    expect(clocksCalcMaxNsecs(mult, 24, clocksourceMaxAdjustment(mult), (1n << 64n) - 1n).maxCycles).toBe(0x256becde448n);
  });

  it("a 2596.122 MHz TSC gets the snapshot kernel's mult 6462414, shift 24", () => {
    expect(clocksCalcMultShift(2_596_122_000n, 1_000_000_000n, 600n)).toEqual({ mult: 6462414n, shift: 24 });
    const p = clocksourceParams(2_596_122_000, (1n << 64n) - 1n);
    expect([p.mult, p.shift, p.maxCycles]).toEqual([6462414, 24, 0x256becde448n]);
  });

  it("a 1 GHz counter: mult 2^23, shift 23", () => {
    const p = clocksourceParams(1_000_000_000, (1n << 64n) - 1n);
    expect([p.mult, p.shift]).toEqual([1 << 23, 23]);
    // mult * maxCycles with the max adjustment stays in u64
    expect(BigInt(p.mult + p.maxadj) * p.maxCycles).toBeLessThan(1n << 64n);
  });

  it("virtual counter: advances only when told, carries fractions of a cycle", () => {
    const cs = new VirtualClocksource(3);
    cs.advanceNs(1_000_000_000);
    expect(cs.read()).toBe(3n);
    for (let i = 0; i < 3; i++) cs.advanceNs(111_111_111);
    expect(cs.read()).toBe(3n);
    cs.advanceNs(1);
    expect(cs.read()).toBe(4n);
    expect(() => cs.advance(-1n)).toThrow(RangeError);
  });

  it("host counter moves forward", () => {
    const cs = hostClocksource();
    const a = cs.read();
    let b = cs.read();
    while (b === a) b = cs.read();
    expect(b > a).toBe(true);
  });
});
