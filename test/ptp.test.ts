// The PTP chain: linuxptp's PI servo arithmetic, convergence of simulated PHCs,
// phc2sys steering aux clocks that the wasm vDSO then reads, determinism.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLOCK_AUX } from "../assembly/layout.ts";
import { VirtualClocksource } from "../src/kernel/clocksource.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { runPtp } from "../src/ptp/run.ts";
import { piGains, PiServo, ServoState } from "../src/ptp/servo.ts";
import { defaultClock, PtpSimulation } from "../src/ptp/sim.ts";
import { createReader } from "../src/reader.ts";

describe("PI servo = linuxptp's arithmetic", () => {
  it("gains for logSyncInterval 0 and -3", () => {
    expect(piGains(1)).toEqual({ kp: 0.7, ki: 0.3 });
    const g = piGains(0.125);
    expect(g.kp).toBeCloseTo(0.7 * 0.125 ** -0.3, 12);
    expect(g.ki).toBeCloseTo(0.3 * 0.125 ** 0.4, 12);
    expect(g.kp).toBeCloseTo(1.306, 3);
    expect(g.ki).toBeCloseTo(0.1306, 3);
    // caps: kp <= 0.7 / interval, ki <= 0.3 / interval
    expect(piGains(16).ki).toBeCloseTo(0.3 / 16, 12);
    expect(piGains(1, { kpConst: 0.5, kiConst: 0.05 })).toEqual({ kp: 0.5, ki: 0.05 });
  });

  it("first two samples: drift from the offset slope, then s2 below the first step threshold", () => {
    const s = new PiServo();
    expect(s.sample(1000, 0)).toEqual({ ppb: 0, state: ServoState.UNLOCKED });
    // +10000 ns over 1 s: 10 ppm fast. drift += (1e9 - 0) * 10000 / 1e9
    expect(s.sample(11000, 1e9)).toEqual({ ppb: 10000, state: ServoState.LOCKED });
    // locked: ppb = kp*offset + drift + ki*offset, and the integrator keeps ki*offset
    const r = s.sample(200, 2e9);
    expect(r.state).toBe(ServoState.LOCKED);
    expect(r.ppb).toBeCloseTo(0.7 * 200 + 10000 + 0.3 * 200, 9);
    expect(s.drift).toBeCloseTo(10000 + 0.3 * 200, 9);
  });

  it("steps (s1) only above 20 us on the first update", () => {
    const a = new PiServo();
    a.sample(0, 0);
    expect(a.sample(20_001, 1e9).state).toBe(ServoState.JUMP);
    const b = new PiServo();
    b.sample(0, 0);
    expect(b.sample(20_000, 1e9).state).toBe(ServoState.LOCKED);
    // after the first update, no step threshold (default 0): never steps again
    expect(a.sample(5_000_000, 2e9).state).toBe(ServoState.LOCKED);
  });

  it("waits 0.016/ki s before estimating; an older second sample restarts", () => {
    const s = new PiServo();
    s.sample(0, 0);
    expect(s.sample(100, 10e6).state).toBe(ServoState.UNLOCKED); // 10 ms < 0.016 / 0.3
    const t = new PiServo();
    t.sample(0, 5e9);
    expect(t.sample(0, 4e9).state).toBe(ServoState.UNLOCKED);
  });

  it("clamps at max_frequency without integrating (anti-windup)", () => {
    const s = new PiServo({}, 0, 1000);
    s.sample(0, 0);
    s.sample(500, 1e9); // drift 500
    const d = s.drift;
    expect(s.sample(1e6, 2e9).ppb).toBe(1000);
    expect(s.drift).toBe(d);
    expect(s.sample(-1e6, 3e9).ppb).toBe(-1000);
    expect(s.drift).toBe(d);
  });

  it("s3 after num_offset_values offsets under offset_threshold", () => {
    const s = new PiServo({ offsetThreshold: 100, numOffsetValues: 3 });
    s.sample(0, 0);
    s.sample(10, 1e9);
    // the second sample (locked, 10 < 100) already counts: 3 -> 2
    const states = [50, 50, 50, 500, 50].map((o, i) => s.sample(o, (i + 2) * 1e9).state);
    expect(states).toEqual([ServoState.LOCKED, ServoState.LOCKED_STABLE, ServoState.LOCKED_STABLE, ServoState.LOCKED, ServoState.LOCKED]);
  });
});

/**
 * The steady-state bound. With a measurement noise sigma_m per sample, the
 * PI loop x[k+1] = x[k] - (kp+ki)*m[k] - d[k], d[k+1] = d[k] + ki*m[k],
 * m = x + n, passes white noise with power gain G = sum of squared impulse
 * response; the true offset has sd sqrt(G)*sigma_m, the reported one
 * sqrt(G+1)*sigma_m.
 */
function piNoiseGain(kp: number, ki: number): number {
  let x = 0;
  let d = 0;
  let g = 0;
  for (let k = 0; k < 5000; k++) {
    const m = x + (k === 0 ? 1 : 0);
    const next = x - kp * m - d - ki * m;
    d += ki * m;
    x = next;
    g += x * x;
  }
  return g;
}

describe("convergence in virtual time", () => {
  it("10 ppm, 1 s sync, 100 ns path-delay noise: s0, one step, then s2 for good; rms within the derived bound; freq within 0.1 ppm", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ clocksource: cs });
    const lines: string[] = [];
    const c = defaultClock(0, { ppm: 10, pdvNs: 100, phaseNoiseNs: 0, wanderPpb: 0, initialOffsetNs: 0.37e9 });
    const sim = new PtpSimulation(k, await createReader(k), cs, [c], { seed: 7, log: (l) => lines.push(l), settledS: 60 });
    sim.run(600);
    const states = lines.filter((l) => l.startsWith("ptp4l")).map((l) => Number(/ s(\d) /.exec(l)![1]));
    expect(states[0]).toBe(0);
    const firstJump = states.indexOf(1);
    expect(firstJump).toBeGreaterThan(0);
    expect(states.slice(firstJump + 1).every((s) => s === 2)).toBe(true);
    expect(states.filter((s) => s === 1)).toHaveLength(1);

    const { kp, ki } = piGains(1);
    const g = piNoiseGain(kp, ki);
    // sigma_m: the forward leg's 100 ns, plus the median-of-10 path delay estimate of
    // (fwd+rev)/2 samples (sd 100/sqrt2): 1.2533 * 70.7 / sqrt(10) = 28 ns.
    const sigmaM = Math.hypot(100, (1.2533 * 100) / Math.SQRT2 / Math.sqrt(10));
    const p = sim.ptp4l[0];
    expect(p.trueStats.n).toBeGreaterThan(500);
    expect(p.trueStats.rms).toBeLessThan(1.2 * Math.sqrt(g) * sigmaM); // ~131 ns
    expect(p.stats.rms).toBeLessThan(1.2 * Math.sqrt(g + 1) * sigmaM); // ~181 ns
    // The correction, averaged over the steady state (each sample carries kp*noise), and the
    // servo's integrator both sit within 0.1 ppm of the oscillator's 10 ppm.
    expect(Math.abs(p.stats.freq - 10_000)).toBeLessThan(100);
    expect(Math.abs(p.servo.drift - 10_000)).toBeLessThan(100);
  });

  it("logSyncInterval -3 (125 ms) converges too, with linuxptp's gains for it", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ clocksource: cs });
    const sim = new PtpSimulation(k, await createReader(k), cs, [defaultClock(0, { ppm: -7.5, logSyncInterval: -3, auxClock: null })], { seed: 3, settledS: 60 });
    sim.run(300);
    expect(sim.ptp4l[0].servo.kp).toBeCloseTo(1.306, 3);
    expect(sim.ptp4l[0].state).toBe(ServoState.LOCKED);
    expect(Math.abs(sim.ptp4l[0].stats.freq + 7_500)).toBeLessThan(100);
  });

  it("8 aux clocks steered at once; each read from wasm agrees with its PHC within the servo's residual", async () => {
    const sim = await runPtp({ clocks: 8, durationS: 300, seed: 11, log: true, out: () => {} });
    for (const s of sim.phc2sys) {
      expect(s.state).toBe(ServoState.LOCKED);
      const phc = s.ptp.phc;
      const r = sim.reader.clockGettime(CLOCK_AUX + s.aux);
      const aux = r.ts!.sec * 1_000_000_000n + BigInt(r.ts!.nsec);
      const phcNow = phc.c.epochNs + BigInt(Math.round(sim.t + phc.off));
      const diff = Math.abs(Number(aux - phcNow));
      expect(diff).toBeLessThan(Math.max(6 * s.stats.rms, 1000));
      // phc2sys takes out the system counter's error: its freq tends to it
      expect(Math.abs(s.stats.freq - (sim.opts.sysPpm ?? 0) * 1000)).toBeLessThan(100);
    }
    expect(sim.phc2sys).toHaveLength(8);
  });
});

describe("the network and the oscillator", () => {
  it("path asymmetry biases the PHC by half of it, as PTP must (it cannot see asymmetry)", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ clocksource: cs });
    const sim = new PtpSimulation(k, await createReader(k), cs, [defaultClock(0, { asymmetryNs: 2000, pdvNs: 20, auxClock: null })], { seed: 1, settledS: 60 });
    sim.run(300);
    // true PHC - GM offset averages to +asymmetry/2 while the reported offset averages to 0
    const mean = sim.ptp4l[0].trueStats;
    expect(Math.abs(Math.sqrt(mean.sumSq / mean.n) - 1000)).toBeLessThan(50);
    expect(sim.ptp4l[0].stats.rms).toBeLessThan(100);
  });

  it("a temperature step of +2 ppm: the servo follows and its correction moves by 2000 ppb", async () => {
    const cs = new VirtualClocksource();
    const k = await Kernel.create({ clocksource: cs });
    const c = defaultClock(0, { ppm: 5, pdvNs: 50, tempSteps: [{ atS: 200, ppm: 2 }], auxClock: null });
    const sim = new PtpSimulation(k, await createReader(k), cs, [c], { seed: 2, settledS: 60 });
    sim.run(199);
    const before = sim.ptp4l[0].servo.drift;
    sim.run(200);
    expect(sim.ptp4l[0].state).toBe(ServoState.LOCKED);
    expect(Math.abs(before - 5000)).toBeLessThan(100);
    expect(Math.abs(sim.ptp4l[0].servo.drift - before - 2000)).toBeLessThan(100);
  });
});

describe("determinism and the CLI", () => {
  const run = async (seed: number) => {
    const lines: string[] = [];
    await runPtp({ clocks: 3, durationS: 120, seed, log: true, out: (l) => lines.push(l) });
    return lines.join("\n");
  };
  it("same seed: byte-identical log; another seed: a different one", async () => {
    const a = await run(42);
    expect(await run(42)).toBe(a);
    expect(await run(43)).not.toBe(a);
    expect(a).toMatch(/^ptp4l\[\d+\.\d{3}\]: \[ptp0\] master offset +-?\d+ s[0-3] freq +[+-]\d+ path delay +\d+$/m);
    expect(a).toMatch(/^phc2sys\[\d+\.\d{3}\]: \[ptp0\] CLOCK_AUX0 phc offset +-?\d+ s[0-3] freq +[+-]\d+ delay +\d+$/m);
  });

  it("npx wasm-vdso ptp prints summaries and the final table; bad options exit 2", () => {
    const bin = new URL("../bin/wasm-vdso.js", import.meta.url).pathname;
    const r = spawnSync(process.execPath, [bin, "ptp", "--clocks", "2", "--duration", "180", "--seed", "5"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ptp4l\[\d+\.\d{3}\]: \[ptp1\] rms +\d+ max +\d+ freq +[+-]\d+ \+\/- +\d+ delay +\d+/);
    expect(r.stdout).toMatch(/\| CLOCK_AUX1 \| phc2sys \| s2 \|/);
    const bad = spawnSync(process.execPath, [bin, "ptp", "--clocks", "9"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--clocks/);
  });
});
