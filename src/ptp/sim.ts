/**
 * A simulated PTP network in virtual time: per clock a grandmaster (perfect
 * domain time), a PHC with an imperfect oscillator disciplined by ptp4l's PI
 * servo over a noisy path, and phc2sys steering an aux clock of the kernel to
 * that PHC through clock_adjtime. What a wasm reader gets from
 * clock_gettime(CLOCK_AUX + n) is the disciplined clock. Every random draw
 * comes from one seeded generator, so a run replays byte for byte.
 *
 * Longer than ~350 lines on purpose: the whole chain (oscillator, PHC, ptp4l,
 * phc2sys, the run loop) in one file, each class short, so a step of the
 * simulation reads top to bottom.
 */
import { CLOCK_AUX } from "../../assembly/layout.ts";
import type { VirtualClocksource } from "../kernel/clocksource.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { Reader } from "../reader.ts";
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, timex } from "../kernel/timex.ts";
import { Rng } from "./rng.ts";
import { type PiConfig, PiServo, ServoState } from "./servo.ts";

export interface ClockConfig {
  /** Message tag in the logs, e.g. "ptp0". */
  name: string;
  domain: number;
  /** Domain time at simulation start, in ns: TAI for a global time, anything for a working clock. */
  epochNs: bigint;
  /** The PHC oscillator's frequency error, ppm. */
  ppm: number;
  /** Random-walk frequency wander, ppb per sqrt(s). */
  wanderPpb: number;
  /** White timestamp noise, ns (sigma). */
  phaseNoiseNs: number;
  /** One-way path delay (mean), ns, and its variation (sigma), ns. */
  pathDelayNs: number;
  pdvNs: number;
  /** Master-to-slave delay minus slave-to-master delay, ns (biases the offset by half). */
  asymmetryNs: number;
  /** log2 of the sync interval in seconds. */
  logSyncInterval: number;
  /** Where the PHC starts relative to its grandmaster, ns. */
  initialOffsetNs: number;
  /** The aux clock phc2sys steers to this PHC (0..7), or null. */
  auxClock: number | null;
  servo: PiConfig;
  /** Oscillator steps (temperature events): at `atS` seconds the error changes by `ppm`. */
  tempSteps: Array<{ atS: number; ppm: number }>;
}

export function defaultClock(i: number, over: Partial<ClockConfig> = {}): ClockConfig {
  return {
    name: `ptp${i}`, domain: i, epochNs: 1_700_000_037_000_000_000n + BigInt(i) * 1_000_000_000_000n, ppm: 10, wanderPpb: 0,
    phaseNoiseNs: 0, pathDelayNs: 5_000, pdvNs: 100, asymmetryNs: 0, logSyncInterval: 0, initialOffsetNs: 0.37e9,
    auxClock: i < 8 ? i : null, servo: {}, tempSteps: [], ...over,
  };
}

/** One clock's statistics, as ptp4l's summary does (offsets in ns, freq in ppb). */
export class Stats {
  n = 0;
  sumSq = 0;
  max = 0;
  freqSum = 0;
  freqSumSq = 0;
  add(offset: number, freq: number): void {
    this.n++;
    this.sumSq += offset * offset;
    this.max = Math.max(this.max, Math.abs(offset));
    this.freqSum += freq;
    this.freqSumSq += freq * freq;
  }
  get rms(): number {
    return this.n ? Math.sqrt(this.sumSq / this.n) : 0;
  }
  get freq(): number {
    return this.n ? this.freqSum / this.n : 0;
  }
  get freqSd(): number {
    return this.n ? Math.sqrt(Math.max(0, this.freqSumSq / this.n - this.freq ** 2)) : 0;
  }
}

const fmtInt = (v: number, w: number) => String(Math.round(v)).padStart(w);
const fmtSigned = (v: number, w: number) => {
  const r = Math.round(v);
  return ((r >= 0 && !Object.is(r, -0) ? "+" : "") + String(r)).padStart(w);
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A PTP hardware clock: domain time plus an offset that its oscillator and the servo move. */
class Phc {
  /** PHC time minus grandmaster time, ns. */
  off: number;
  /** Oscillator error, ppb (wander and temperature steps change it). */
  errPpb: number;
  /** The servo's frequency adjustment, ppb (clock_adjtime ADJ_FREQUENCY). */
  adjPpb = 0;
  constructor(readonly c: ClockConfig) {
    this.off = c.initialOffsetNs;
    this.errPpb = c.ppm * 1000;
  }
  advance(dtNs: number, rng: Rng): void {
    const rate = (1 + this.errPpb * 1e-9) * (1 + this.adjPpb * 1e-9) - 1;
    this.off += dtNs * rate;
    if (this.c.wanderPpb) this.errPpb += this.c.wanderPpb * Math.sqrt(dtNs / 1e9) * rng.normal();
  }
}

/** ptp4l on one PHC: Sync/Delay_Req exchanges, path delay filter, PI servo. */
class Ptp4l {
  readonly servo: PiServo;
  private delays: number[] = [];
  pathDelay = 0;
  state = ServoState.UNLOCKED;
  freq = 0;
  timeToLockS: number | null = null;
  readonly stats = new Stats(); // locked samples after the settling time
  readonly trueStats = new Stats();
  private summary = new Stats();
  constructor(readonly phc: Phc) {
    this.servo = new PiServo(phc.c.servo, 0, 1_000_000);
    this.servo.syncInterval(2 ** phc.c.logSyncInterval);
  }

  onSample?: (offset: number, freq: number, state: ServoState, t: number) => void;

  /** One exchange at true time `t` (ns since start); returns the log line. */
  exchange(t: number, rng: Rng, settledS: number, log: (s: string) => void, summaryN: number): void {
    const c = this.phc.c;
    const leg = (mean: number) => Math.max(0, mean + c.pdvNs * rng.normal());
    const dMs = leg(c.pathDelayNs + c.asymmetryNs / 2);
    const dSm = leg(c.pathDelayNs - c.asymmetryNs / 2);
    const n = () => c.phaseNoiseNs * rng.normal();
    // t2 - t1 = dMs + off + noise; t4 - t3 = dSm - off + noise
    const fwd = dMs + this.phc.off + n();
    const rev = dSm - this.phc.off + n();
    this.delays.push((fwd + rev) / 2);
    if (this.delays.length > 10) this.delays.shift(); // linuxptp's moving median, length 10
    this.pathDelay = median(this.delays);
    const offset = Math.round(fwd - this.pathDelay);
    const local = t + this.phc.off;
    const r = this.servo.sample(offset, local);
    this.state = r.state;
    this.freq = r.ppb;
    if (r.state === ServoState.JUMP) this.phc.off -= offset; // clockadj_step(-offset)
    if (r.state !== ServoState.UNLOCKED) this.phc.adjPpb = -r.ppb; // clockadj_set_freq(-ppb)
    if (r.state >= ServoState.LOCKED && this.timeToLockS === null) this.timeToLockS = t / 1e9;
    this.onSample?.(offset, r.ppb, r.state, t / 1e9);
    if (t / 1e9 >= settledS && r.state >= ServoState.LOCKED) {
      this.stats.add(offset, r.ppb);
      this.trueStats.add(this.phc.off, r.ppb);
    }
    const stamp = `ptp4l[${(t / 1e9).toFixed(3)}]: [${c.name}]`;
    if (summaryN <= 0) {
      log(`${stamp} master offset ${fmtInt(offset, 10)} s${r.state} freq ${fmtSigned(r.ppb, 7)} path delay ${fmtInt(this.pathDelay, 9)}`);
    } else if (r.state >= ServoState.LOCKED) {
      this.summary.add(offset, r.ppb);
      if (this.summary.n >= summaryN) {
        const s = this.summary;
        log(`${stamp} rms ${fmtInt(s.rms, 4)} max ${fmtInt(s.max, 4)} freq ${fmtSigned(s.freq, 6)} +/- ${fmtInt(s.freqSd, 3)} delay ${fmtInt(this.pathDelay, 5)} +/- ${fmtInt(0, 3)}`);
        this.summary = new Stats();
      }
    }
  }
}

/** phc2sys steering aux clock `aux` of the kernel to a PHC. */
class Phc2sys {
  servo: PiServo;
  onSample?: (offset: number, freq: number, state: ServoState, t: number) => void;
  state = ServoState.UNLOCKED;
  freq = 0;
  timeToLockS: number | null = null;
  readonly stats = new Stats();
  private summary = new Stats();
  constructor(
    readonly ptp: Ptp4l,
    readonly aux: number,
  ) {
    this.servo = new PiServo(ptp.phc.c.servo, 0, 500_000); // the kernel's MAXFREQ: 500 ppm
  }

  /** PHC time now as absolute domain ns, with a read noise of `readNoise` ns. */
  private phcNow(t: number, rng: Rng): bigint {
    const c = this.ptp.phc.c;
    return c.epochNs + BigInt(Math.round(t + this.ptp.phc.off + c.phaseNoiseNs * rng.normal()));
  }

  poll(t: number, k: Kernel, reader: Reader, rng: Rng, settledS: number, log: (s: string) => void, summaryN: number): void {
    const clock = CLOCK_AUX + this.aux;
    const phc = this.phcNow(t, rng);
    const auxNs = reader.nowNs(clock); // the wasm vDSO, as phc2sys's clock_gettime would be
    if (auxNs < 0n) return;
    const big = auxNs - phc;
    const offset = Number(big);
    const r = this.servo.sample(offset, t);
    this.state = r.state;
    this.freq = r.ppb;
    if (r.state === ServoState.JUMP) {
      // ADJ_SETOFFSET | ADJ_NANO by -offset, exact, nanoseconds kept non-negative
      const step = -big;
      let sec = step / 1_000_000_000n;
      let nsec = step % 1_000_000_000n;
      if (nsec < 0n) {
        nsec += 1_000_000_000n;
        sec -= 1n;
      }
      k.clockAdjtime(clock, timex({ modes: ADJ_SETOFFSET | ADJ_NANO, time: { sec, usec: nsec } }));
    }
    if (r.state !== ServoState.UNLOCKED) {
      k.clockAdjtime(clock, timex({ modes: ADJ_FREQUENCY, freq: BigInt(Math.round(-r.ppb * 65.536)) }));
    }
    if (r.state >= ServoState.LOCKED && this.timeToLockS === null) this.timeToLockS = t / 1e9;
    this.onSample?.(offset, r.ppb, r.state, t / 1e9);
    if (t / 1e9 >= settledS && r.state >= ServoState.LOCKED) this.stats.add(offset, r.ppb);
    const stamp = `phc2sys[${(t / 1e9).toFixed(3)}]: [${this.ptp.phc.c.name}]`;
    if (summaryN <= 0) {
      log(`${stamp} CLOCK_AUX${this.aux} phc offset ${fmtInt(offset, 9)} s${r.state} freq ${fmtSigned(r.ppb, 7)} delay ${fmtInt(0, 6)}`);
    } else if (r.state >= ServoState.LOCKED) {
      this.summary.add(offset, r.ppb);
      if (this.summary.n >= summaryN) {
        const s = this.summary;
        log(`${stamp} CLOCK_AUX${this.aux} rms ${fmtInt(s.rms, 4)} max ${fmtInt(s.max, 4)} freq ${fmtSigned(s.freq, 6)} +/- ${fmtInt(s.freqSd, 3)}`);
        this.summary = new Stats();
      }
    }
  }
}

/** One servo sample, for plots: which clock, when (s), offset (ns), freq (ppb), state. */
export interface Sample {
  kind: "ptp4l" | "phc2sys";
  clock: number;
  t: number;
  offset: number;
  freq: number;
  state: ServoState;
}

export interface SimOptions {
  seed: number;
  /** Called for every servo sample (the demo's plots). */
  onSample?: (s: Sample) => void;
  /** The system counter's own frequency error, ppm (what phc2sys must take out of the aux clocks). */
  sysPpm?: number;
  /** Statistics count from this many seconds on (steady state). */
  settledS?: number;
  /** 0: a line per sample; N: ptp4l-style summaries every N samples. */
  summaryInterval?: number;
  log?: (line: string) => void;
}

export class PtpSimulation {
  readonly rng: Rng;
  readonly phcs: Phc[];
  readonly ptp4l: Ptp4l[];
  readonly phc2sys: Phc2sys[];
  /** Simulated true time since the start, ns. */
  t = 0;
  private sysFrac = 0;
  private readonly log: (line: string) => void;

  constructor(
    readonly kernel: Kernel,
    /** A reader of `kernel`: phc2sys reads the aux clocks through it. */
    readonly reader: Reader,
    readonly cs: VirtualClocksource,
    readonly clocks: ClockConfig[],
    readonly opts: SimOptions,
  ) {
    this.rng = new Rng(opts.seed);
    this.log = opts.log ?? (() => {});
    this.phcs = clocks.map((c) => new Phc(c));
    this.ptp4l = this.phcs.map((p) => new Ptp4l(p));
    this.phc2sys = [];
    this.ptp4l.forEach((p) => {
      if (p.phc.c.auxClock === null) return;
      kernel.auxClockEnable(p.phc.c.auxClock, true);
      this.phc2sys.push(new Phc2sys(p, p.phc.c.auxClock));
    });
    this.ptp4l.forEach((p, i) => (p.onSample = (offset, freq, state, t) => opts.onSample?.({ kind: "ptp4l", clock: i, t, offset, freq, state })));
    this.phc2sys.forEach((s) => {
      const i = this.ptp4l.indexOf(s.ptp);
      s.onSample = (offset, freq, state, t) => opts.onSample?.({ kind: "phc2sys", clock: i, t, offset, freq, state });
    });
  }

  /** A fresh phc2sys servo for clock i (after its aux clock was re-enabled, time starting at 0). */
  resetPhc2sys(i: number): void {
    const s = this.phc2sys.find((x) => x.ptp === this.ptp4l[i]);
    if (s) {
      s.servo = new PiServo(s.ptp.phc.c.servo, 0, 500_000);
      s.timeToLockS = null;
    }
  }

  /** Steps clock i's PHC by `ns` (the servo sees it at the next sync). */
  stepPhc(i: number, ns: number): void {
    this.phcs[i].off += ns;
  }

  /** Steps clock i's grandmaster by `ns`: domain time jumps, the PHC has not moved yet. */
  stepGrandmaster(i: number, ns: number): void {
    this.clocks[i].epochNs += BigInt(Math.round(ns));
    this.phcs[i].off -= ns;
  }

  /** Sets clock i's oscillator error (ppm), keeping any accumulated wander out. */
  setOscillator(i: number, ppm: number): void {
    this.phcs[i].errPpb = ppm * 1000;
    this.clocks[i].ppm = ppm;
  }

  /** A clock's sync interval (log2 s); the servo's gains follow, as linuxptp's do. */
  setSyncInterval(i: number, logSyncInterval: number): void {
    this.clocks[i].logSyncInterval = logSyncInterval;
    this.ptp4l[i].servo.syncInterval(2 ** logSyncInterval);
  }

  /** Servo gains for clock i (pi_proportional_const / pi_integral_const). */
  setGains(i: number, kp: number, ki: number): void {
    this.clocks[i].servo = { ...this.clocks[i].servo, kpConst: kp, kiConst: ki };
    this.ptp4l[i].servo.config = this.clocks[i].servo;
    this.ptp4l[i].servo.syncInterval(2 ** this.clocks[i].logSyncInterval);
  }

  /** Moves true time forward: oscillators, temperature steps, the system counter. */
  private advance(dt: number): void {
    if (dt <= 0) return;
    for (const p of this.phcs) {
      for (const s of p.c.tempSteps) if (this.t < s.atS * 1e9 && this.t + dt >= s.atS * 1e9) p.errPpb += s.ppm * 1000;
      p.advance(dt, this.rng);
    }
    // The system counter runs at 1 + sysPpm from true time; whole cycles only.
    const cycles = dt * (1 + (this.opts.sysPpm ?? 0) * 1e-6) + this.sysFrac;
    const whole = Math.floor(cycles);
    this.sysFrac = cycles - whole;
    this.cs.advance(BigInt(whole));
    this.t += dt;
  }

  // When each next event is due (true ns); kept across run() calls so short runs add up.
  private nextSync?: number[];
  private nextPoll?: number[];
  private nextTick = 20e6;

  /** Runs `seconds` of virtual time: syncs, phc2sys polls (half a second later) and kernel ticks every 20 ms. */
  run(seconds: number): void {
    const end = this.t + seconds * 1e9;
    const tick = 20e6;
    const settled = this.opts.settledS ?? 60;
    const summary = this.opts.summaryInterval ?? 0;
    const period = (p: Ptp4l) => 2 ** p.phc.c.logSyncInterval * 1e9;
    const nextSync = (this.nextSync ??= this.ptp4l.map((p) => period(p)));
    const nextPoll = (this.nextPoll ??= this.phc2sys.map((s) => nextSync[this.ptp4l.indexOf(s.ptp)] + 0.5e9));
    let nextTick = this.nextTick;
    while (this.t < end) {
      const next = Math.min(end, nextTick, ...nextSync, ...nextPoll);
      this.advance(next - this.t);
      if (this.t >= nextTick) {
        this.kernel.tick();
        nextTick += tick;
      }
      this.ptp4l.forEach((p, i) => {
        if (this.t >= nextSync[i]) {
          p.exchange(this.t, this.rng, settled, this.log, summary);
          nextSync[i] += period(p);
        }
      });
      this.phc2sys.forEach((s, i) => {
        if (this.t >= nextPoll[i]) {
          s.poll(this.t, this.kernel, this.reader, this.rng, settled, this.log, summary);
          nextPoll[i] += 1e9;
        }
      });
    }
    this.nextTick = nextTick;
  }

  /** The final table: per clock, ptp4l and its aux clock. */
  table(): string {
    const rows = ["| clock | servo | state | time to s2 | rms offset (ns) | max abs offset (ns) | freq (ppb) | oscillator (ppb) |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"];
    this.ptp4l.forEach((p) => {
      const c = p.phc.c;
      rows.push(`| ${c.name} (domain ${c.domain}) | ptp4l | s${p.state} | ${p.timeToLockS?.toFixed(0) ?? "-"} s | ${p.stats.rms.toFixed(1)} | ${p.stats.max.toFixed(0)} | ${p.freq.toFixed(0)} | ${p.phc.errPpb.toFixed(0)} |`);
      const s = this.phc2sys.find((x) => x.ptp === p);
      if (s) rows.push(`| CLOCK_AUX${s.aux} | phc2sys | s${s.state} | ${s.timeToLockS?.toFixed(0) ?? "-"} s | ${s.stats.rms.toFixed(1)} | ${s.stats.max.toFixed(0)} | ${s.freq.toFixed(0)} | ${((this.opts.sysPpm ?? 0) * 1000).toFixed(0)} (system) |`);
    });
    return rows.join("\n");
  }
}
