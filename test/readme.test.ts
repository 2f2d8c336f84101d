// The README's kernel-side example, run as written, through the public API.
import { it, expect } from "vitest";
import { Kernel, VirtualClocksource, timex, ADJ_FREQUENCY, ADJ_SETOFFSET, ADJ_NANO, layout } from "../src/index.ts";
it("readme example", async () => {
const cs = new VirtualClocksource(1_000_000_000);
const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 0n } });
cs.advanceNs(4_000_000);
k.tick();
expect(k.clockGettime(layout.CLOCK_MONOTONIC)).toEqual({ ret: 0, ts: { sec: 0n, nsec: 4000000 } });
expect(k.adjtimex(timex({ modes: ADJ_FREQUENCY, freq: 819200n }))).toBeGreaterThanOrEqual(0);
expect(k.adjtimex(timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec: -2n, usec: 500_000_000n } }))).toBeGreaterThanOrEqual(0);
expect(k.clockSettime(layout.CLOCK_REALTIME, { sec: 1_800_000_000n, nsec: 0n })).toBe(0);
expect(k.settimeofday(null, { minuteswest: -60, dsttime: 0 })).toBe(0);
expect(k.suspend(3_600_000_000_000n)).toBe(0);
expect(k.auxClockEnable(0, true)).toBe(0);
expect(k.clockSettime(layout.CLOCK_AUX, { sec: 1234n, nsec: 0n })).toBe(0);
expect(k.clockAdjtime(layout.CLOCK_AUX, timex({ modes: ADJ_FREQUENCY, freq: -65536n }))).toBeGreaterThanOrEqual(0);
const ns = k.createTimeNamespace({ monotonic: { sec: 1000n, nsec: 0n }, boottime: { sec: 5000n, nsec: 0n } });
expect(typeof ns).toBe("object");
if (typeof ns !== "number") k.enter(ns);
expect(k.clockGettime(layout.CLOCK_MONOTONIC).ts!.sec).toBe(1000n);
k.enter(null);
});
