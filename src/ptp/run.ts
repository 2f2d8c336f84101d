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

export interface PtpRunOptions {
  /** Simulated hosts, each its own kernel and store (Linux has eight aux clocks per machine). Default 1. */
  hosts?: number;
  /** PTP clocks per host, each steering one aux clock (1..8). */
  clocks: number;
  durationS: number;
  seed: number;
  log: boolean;
  out: (s: string) => void;
}

/** One host's simulation; host h draws its clocks from its own seed, so a run replays per seed. */
async function host(h: number, opts: PtpRunOptions): Promise<PtpSimulation> {
  const cs = new VirtualClocksource();
  const k = await Kernel.create({ clocksource: cs, realtime: { sec: 1_700_000_000n, nsec: 0n } });
  const seed = (opts.seed + h * 7919) >>> 0;
  const { clocks, sysPpm } = seededClocks(opts.clocks, seed);
  const log = (opts.hosts ?? 1) > 1 ? (l: string) => opts.out(`host${h}: ${l}`) : opts.out;
  return new PtpSimulation(k, await createReader(k), cs, clocks, { seed, sysPpm, summaryInterval: opts.log ? 0 : 60, log });
}

/** `hosts` simulations run side by side in virtual time, a second at a time (so their logs interleave in time order). */
export async function runPtpHosts(opts: PtpRunOptions): Promise<PtpSimulation[]> {
  const sims = await Promise.all(Array.from({ length: opts.hosts ?? 1 }, (_, h) => host(h, opts)));
  for (let t = 0; t < opts.durationS; t++) for (const sim of sims) sim.run(Math.min(1, opts.durationS - t));
  return sims;
}

/** One host: what `wasm-vdso ptp` runs without `--hosts`. */
export async function runPtp(opts: Omit<PtpRunOptions, "hosts">): Promise<PtpSimulation> {
  return (await runPtpHosts({ ...opts, hosts: 1 }))[0];
}
