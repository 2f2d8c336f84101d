/** `wasm-vdso ptp`: N simulated PTP clocks in accelerated virtual time, logs and a final table. */
import { VirtualClocksource } from "../kernel/clocksource.ts";
import { Kernel } from "../kernel/kernel.ts";
import { createReader } from "../reader.ts";
import { Rng } from "./rng.ts";
import { type ClockConfig, defaultClock, PtpSimulation } from "./sim.ts";

/** N clocks with parameters drawn from the seed: oscillator errors, delays, epochs all differ. */
export function seededClocks(n: number, seed: number): { clocks: ClockConfig[]; sysPpm: number } {
  const rng = new Rng(seed ^ 0x5eed);
  const clocks = Array.from({ length: n }, (_, i) =>
    defaultClock(i, {
      ppm: Math.round((rng.uniform() * 30 - 15) * 1000) / 1000,
      wanderPpb: 0.5,
      phaseNoiseNs: 8,
      pathDelayNs: 1000 + Math.round(rng.uniform() * 9000),
      pdvNs: 100,
      initialOffsetNs: Math.round((rng.uniform() - 0.5) * 1e9),
      // domain 0 is a global time on TAI; the others are working clocks with their own epochs
      epochNs: i === 0 ? 1_700_000_037_000_000_000n : BigInt(Math.round(rng.uniform() * 1e6)) * 1_000_000_000n,
    }),
  );
  return { clocks, sysPpm: Math.round((rng.uniform() * 40 - 20) * 1000) / 1000 };
}

export async function runPtp(opts: { clocks: number; durationS: number; seed: number; log: boolean; out: (s: string) => void }): Promise<PtpSimulation> {
  const cs = new VirtualClocksource();
  const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 0n } });
  const { clocks, sysPpm } = seededClocks(opts.clocks, opts.seed);
  const sim = new PtpSimulation(k, await createReader(k), cs, clocks, { seed: opts.seed, sysPpm, summaryInterval: opts.log ? 0 : 60, log: opts.out });
  sim.run(opts.durationS);
  return sim;
}
