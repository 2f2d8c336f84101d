/** Test helpers for the kernel side: a deterministic kernel and nanosecond readings. */
import { VirtualClocksource } from "../../src/kernel/clocksource.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
import type { Timespec64 } from "../../src/kernel/time.ts";

export const EPOCH = { sec: 1_700_000_000n, nsec: 0n };

export async function virtualKernel(start: Timespec64 = EPOCH) {
  const cs = new VirtualClocksource(1_000_000_000);
  const k = await Kernel.create({ clocksource: cs, realtime: start });
  /** Runs `ns` of virtual time, ticking every `tickNs`. */
  const run = (ns: bigint, tickNs = 4_000_000n) => {
    for (let t = 0n; t < ns; t += tickNs) {
      cs.advanceNs(t + tickNs <= ns ? tickNs : ns - t);
      k.tick();
    }
  };
  return { k, cs, run };
}

/** A vDSO reading in ns; throws if the vDSO (or its fallback) failed. */
export function vdsoNs(k: Kernel, clock: number): bigint {
  const r = k.clockGettime(clock);
  if (r.ret !== 0 || !r.ts) throw new Error(`clock ${clock}: ret ${r.ret}`);
  return r.ts.sec * 1_000_000_000n + BigInt(r.ts.nsec);
}

/** The syscall's reading in ns. */
export function sysNs(k: Kernel, clock: number): bigint {
  const t = k.sysClockGettime(clock);
  if (typeof t === "number") throw new Error(`clock ${clock}: errno ${t}`);
  return t.sec * 1_000_000_000n + t.nsec;
}
