/** Test helpers for the kernel side: a deterministic kernel, its reader, and nanosecond readings. */
import { VirtualClocksource } from "../../src/kernel/clocksource.ts";
import { Kernel } from "../../src/kernel/kernel.ts";
import { createReader, type Reader } from "../../src/reader.ts";
import type { Timespec } from "../../src/time.ts";

export const EPOCH = { sec: 1_700_000_000n, nsec: 0n };

/** A kernel on a virtual 1 GHz counter, a reader of it (root namespace), and a way to run time. */
export async function virtualKernel(start: Timespec = EPOCH) {
  const cs = new VirtualClocksource(1_000_000_000);
  const k = await Kernel.create({ clocksource: cs, realtime: start });
  const r = await createReader(k);
  /** Runs `ns` of virtual time, ticking every `tickNs`. */
  const run = (ns: bigint, tickNs = 4_000_000n) => {
    for (let t = 0n; t < ns; t += tickNs) {
      cs.advanceNs(t + tickNs <= ns ? tickNs : ns - t);
      k.tick();
    }
  };
  return { k, cs, r, run };
}

/** A vDSO reading in ns; throws if the vDSO (or its fallback) failed. */
export function vdsoNs(r: Reader, clock: number): bigint {
  const res = r.clockGettime(clock);
  if (res.ret !== 0 || !res.ts) throw new Error(`clock ${clock}: ret ${res.ret}`);
  return res.ts.sec * 1_000_000_000n + res.ts.nsec;
}

/** The syscall's reading in ns. */
export function sysNs(k: Kernel, clock: number): bigint {
  const t = k.sysClockGettime(clock);
  if (typeof t === "number") throw new Error(`clock ${clock}: errno ${t}`);
  return t.sec * 1_000_000_000n + t.nsec;
}
