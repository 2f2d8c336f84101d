// The kernel in a worker thread, readers on its shared memory in this thread.
import { describe, expect, it } from "vitest";
import { CLOCK_AUX, CLOCK_MONOTONIC, CLOCK_REALTIME, EINVAL, ENODEV } from "../assembly/layout.ts";
import { KernelWorker } from "../src/workers/kernel.ts";
import { ADJ_FREQUENCY, timex } from "../src/kernel/timex.ts";
import { createReader } from "../src/reader.ts";

describe.each(["shared", "host-call"] as const)("KernelWorker (%s counter)", (counter) => {
  it("publishes from its thread; readers here see time move, steps, aux clocks and the kernel's errors", async () => {
    const kw = await KernelWorker.start({ counter, tickerPeriodNs: 0 });
    try {
      const r1 = await createReader(kw);
      const r2 = await createReader({ memory: kw.memory, view: kw.view });
      const a = r1.nowNs(CLOCK_MONOTONIC);
      await new Promise((res) => setTimeout(res, 30));
      const b = r2.nowNs(CLOCK_MONOTONIC);
      expect(b - a).toBeGreaterThan(20_000_000n);
      expect(b - a).toBeLessThan(2_000_000_000n);

      expect(await kw.call("clockSettime", CLOCK_REALTIME, { sec: 2_000_000_000n, nsec: 0n })).toBe(0);
      const rt = r1.nowNs(CLOCK_REALTIME);
      expect(rt / 1_000_000_000n).toBe(2_000_000_000n);

      expect(r1.clockGettime(CLOCK_AUX).ret).toBe(-ENODEV);
      expect(await kw.call("auxClockEnable", 0, true)).toBe(0);
      const t = timex({ modes: ADJ_FREQUENCY, freq: 10n << 16n });
      expect(await kw.call("clockAdjtime", CLOCK_AUX, t)).toBeGreaterThanOrEqual(0);
      expect(t.freq).toBe(10n << 16n); // filled in by the worker, sent back
      expect(r2.nowNs(CLOCK_AUX)).toBeGreaterThanOrEqual(0n);
      expect(r1.clockGettime(99).ret).toBe(-EINVAL);
      // @ts-expect-error: a misspelt method is a type error, and refused at run time too
      await expect(kw.call("nope")).rejects.toThrow(/no kernel call/);
      // @ts-expect-error: so is a wrong argument
      await expect(kw.call("auxClockEnable", "0", true)).resolves.toBeDefined();
    } finally {
      await kw.close();
    }
  });
});
