/**
 * The demo's machine: a kernel on a virtual counter, eight simulated PTP
 * clocks steering aux clocks 0..7, advanced in steps of scaled wall time. It
 * runs in a Worker over shared memory (or in the page when it cannot).
 *
 * A restart (`resume`) is a new Engine on the same memory: its Kernel adopts
 * the store (`adopt: true`), so every clock continues from the last consistent
 * published state. The simulated network (grandmasters, PHCs, servos) lived in
 * the worker that stopped; the page hands back what it last saw of it, and the
 * new simulation puts each grandmaster where its aux clock is now, so phc2sys
 * finds its clock within nanoseconds and locks without a step.
 */
// The demo calls the package's public API (src/index.ts), as a user calls "wasm-vdso".
import { createReader, Kernel, layout, ntp, PiServo, piGains, PtpSimulation, type Reader, type Sample, seededClocks, type View, type VirtualClocksource } from "../src/index.ts";

/** One simulated grandmaster per aux clock. */
export const CLOCKS = layout.MAX_AUX_CLOCKS;
export const SEED = 2026;

/** What a visitor can set per clock. */
export interface ClockParams {
  ppm: number;
  wanderPpb: number;
  jitterNs: number;
  logSync: number;
  kp: number;
  ki: number;
  /** kp/ki were set by hand (else linuxptp's defaults for the sync interval). */
  customGains: boolean;
}

export type Control =
  | { op: "speed"; value: number }
  | { op: "aux"; clock: number; enabled: boolean }
  | { op: "oscillator"; clock: number; ppm: number }
  | { op: "wander"; clock: number; ppb: number }
  | { op: "jitter"; clock: number; ns: number }
  | { op: "syncInterval"; clock: number; log2: number }
  | { op: "gains"; clock: number; kp: number; ki: number }
  | { op: "stepClock"; clock: number; ns: number }
  | { op: "stepGrandmaster"; clock: number; ns: number }
  | { op: "namespace"; monoS: number; bootS: number }
  | { op: "close" };

/** A servo sample with what only the simulation knows: the true error. */
export interface Point extends Sample {
  /** ptp4l: PHC minus grandmaster; phc2sys: CLOCK_AUX minus grandmaster (what readers get). ns, true. */
  truth: number;
  /** ptp4l's path delay estimate (ns). */
  delay: number;
}

export interface Reply {
  ok: boolean;
  text: string;
  clock?: number;
}

/** What a restarted engine needs of the one that stopped. */
export interface Resume {
  speed: number;
  /** Virtual seconds already shown (times continue from here). */
  t0: number;
  clocks: Array<ClockParams & { phcOff: number; errPpb: number; ptpFreq: number; sysFreq: number; enabled: boolean }>;
}

export interface Batch {
  samples: Point[];
  logs: string[];
  simTime: number;
  /** ptp4l's and phc2sys's servo state per clock. */
  states: number[];
  sysStates: number[];
  enabled: boolean[];
  replies: Reply[];
  /** A namespace view created on request, for the page's reader. */
  namespace?: View;
  /** The engine's own state now: the parameters as the simulation holds them, and what a restart needs. */
  resume: Resume;
}

/** The parameters every clock starts with (the page shows these before the first batch). */
export function initialParams(): ClockParams[] {
  const { clocks } = seededClocks(CLOCKS, SEED);
  return clocks.map((c) => ({ ppm: c.ppm, wanderPpb: c.wanderPpb, jitterNs: c.pdvNs, logSync: c.logSyncInterval, ...piGains(2 ** c.logSyncInterval), customGains: false }));
}

const errno: Record<number, string> = { [-layout.EINVAL]: "EINVAL", [-layout.ERANGE]: "ERANGE", [-layout.ENODEV]: "ENODEV", [-layout.ENOSPC]: "ENOSPC" };

export class Engine {
  speed = 1;
  closed = false;
  private samples: Point[] = [];
  private logs: string[] = [];
  private replies: Reply[] = [];
  private ns?: View;

  private constructor(
    readonly kernel: Kernel,
    readonly cs: VirtualClocksource,
    readonly sim: PtpSimulation,
    readonly reader: Reader,
    readonly t0: number,
  ) {}

  /** A new machine on `memory` (a fresh store), or, with `resume`, one that adopts the store a stopped engine left. */
  static async create(memory?: WebAssembly.Memory, resume?: Resume): Promise<Engine> {
    const now = Date.now();
    const kernel = await Kernel.create({ counter: "virtual", memory, adopt: resume !== undefined, realtime: { sec: BigInt(Math.floor(now / 1000)), nsec: 0n } });
    const cs = kernel.cs as VirtualClocksource;
    if (!resume) kernel.adjtimex(ntp.timex({ modes: ntp.ADJ_TAI, constant: 37n })); // TAI - UTC = 37 s (an adopted store keeps its own)
    const reader = await createReader(kernel);
    const { clocks, sysPpm } = seededClocks(CLOCKS, SEED);
    // ptp4l's step_threshold at 100 us (linuxptp's default 0 never steps after the first lock):
    // a visitor's 1 ms step then sends the servo back through s0 and s1 to s2.
    for (const c of clocks) c.servo = { ...c.servo, stepThreshold: 100_000 };
    if (resume) {
      clocks.forEach((c, i) => {
        const r = resume.clocks[i];
        c.ppm = r.ppm;
        c.wanderPpb = r.wanderPpb;
        c.pdvNs = r.jitterNs;
        c.logSyncInterval = r.logSync;
        if (r.customGains) c.servo = { ...c.servo, kpConst: r.kp, kiConst: r.ki };
        c.initialOffsetNs = r.phcOff;
        // The grandmaster where the (adopted, continuing) aux clock says the PHC is.
        const aux = reader.nowNs(layout.CLOCK_AUX + i);
        if (aux >= 0n) c.epochNs = aux - BigInt(Math.round(r.phcOff));
      });
    }
    let self: Engine | undefined;
    const sim = new PtpSimulation(kernel, reader, cs, clocks, {
      seed: SEED,
      sysPpm,
      log: (l) => self?.log(l),
      onSample: (s) => self?.sample(s),
    });
    if (resume) {
      resume.clocks.forEach((r, i) => {
        sim.phcs[i].errPpb = r.errPpb;
        sim.phcs[i].adjPpb = -r.ptpFreq;
        const ptp = sim.ptp4l[i].servo;
        ptp.drift = ptp.lastFreq = r.ptpFreq;
        if (!r.enabled) {
          kernel.auxClockEnable(i, false);
          return;
        }
        // The adopted kernel keeps the aux clock's time and frequency; phc2sys sets its last correction again, as it would on start.
        kernel.clockAdjtime(layout.CLOCK_AUX + i, ntp.timex({ modes: ntp.ADJ_FREQUENCY, freq: BigInt(Math.round(-r.sysFreq * 65.536)) }));
        const s = sim.phc2sys[i];
        s.servo = new PiServo(s.servo.config, r.sysFreq, 500_000);
      });
    }
    self = new Engine(kernel, cs, sim, reader, resume?.t0 ?? 0);
    self.speed = resume?.speed ?? 1;
    return self;
  }

  private log(l: string): void {
    // Times continue across a restart: the new simulation's clock starts at 0.
    this.logs.push(this.t0 ? l.replace(/^(\w+)\[(\d+\.\d+)\]/, (_, d: string, t: string) => `${d}[${(Number(t) + this.t0).toFixed(3)}]`) : l);
  }

  private sample(s: Sample): void {
    const i = s.clock;
    const sim = this.sim;
    let truth: number;
    if (s.kind === "ptp4l") truth = sim.phcs[i].off;
    else {
      const aux = this.reader.nowNs(layout.CLOCK_AUX + i);
      truth = aux < 0n ? NaN : Number(aux - (sim.clocks[i].epochNs + BigInt(Math.round(sim.t))));
    }
    this.samples.push({ ...s, t: s.t + this.t0, truth, delay: sim.ptp4l[i].pathDelay });
  }

  /** The parameters as the simulation holds them (what the controls must show and change). */
  private state(): Resume {
    const sim = this.sim;
    return {
      speed: this.speed,
      t0: this.t0 + sim.t / 1e9,
      clocks: sim.clocks.map((c, i) => ({
        ppm: c.ppm,
        wanderPpb: c.wanderPpb,
        jitterNs: c.pdvNs,
        logSync: c.logSyncInterval,
        kp: sim.ptp4l[i].servo.kp,
        ki: sim.ptp4l[i].servo.ki,
        customGains: c.servo.kpConst !== undefined,
        phcOff: sim.phcs[i].off,
        errPpb: sim.phcs[i].errPpb,
        ptpFreq: sim.ptp4l[i].freq,
        sysFreq: sim.phc2sys[i].freq,
        enabled: this.kernel.aux[i].valid,
      })),
    };
  }

  /** Advances virtual time by `realMs` of wall time times the speed; returns what happened. */
  step(realMs: number): Batch {
    if (this.speed > 0 && !this.closed) this.sim.run((realMs * this.speed) / 1000);
    const b: Batch = {
      samples: this.samples,
      logs: this.logs.slice(-200),
      simTime: this.t0 + this.sim.t / 1e9,
      states: this.sim.ptp4l.map((p) => p.state),
      sysStates: this.sim.phc2sys.map((p) => p.state),
      enabled: this.kernel.aux.map((a) => a.valid),
      replies: this.replies,
      namespace: this.ns,
      resume: this.state(),
    };
    this.samples = [];
    this.logs = [];
    this.replies = [];
    this.ns = undefined;
    return b;
  }

  /** Applies one control; every action and refusal is answered in the next batch's `replies`. */
  control(c: Control): void {
    const reply = (ok: boolean, text: string): void => void this.replies.push({ ok, text, clock: "clock" in c ? c.clock : undefined });
    if (this.closed) return reply(false, `${c.op}: the kernel is closed`);
    const sim = this.sim;
    const name = "clock" in c ? `ptp${c.clock}` : "";
    switch (c.op) {
      case "speed":
        this.speed = c.value;
        return reply(true, c.value === 0 ? "virtual time paused" : `virtual time at ${c.value}x`);
      case "aux": {
        const r = this.kernel.auxClockEnable(c.clock, c.enabled);
        if (r !== 0) return reply(false, `CLOCK_AUX${c.clock}: auxClockEnable refused (${errno[r] ?? r})`);
        if (c.enabled) sim.resetPhc2sys(c.clock);
        return reply(true, `CLOCK_AUX${c.clock} ${c.enabled ? "enabled (time starts at 0; phc2sys steps it to its PHC)" : "disabled (reads ENODEV)"}`);
      }
      case "oscillator": {
        const was = sim.clocks[c.clock].ppm;
        sim.setOscillator(c.clock, c.ppm);
        return reply(true, `${name}: oscillator error ${was} → ${c.ppm} ppm`);
      }
      case "wander": {
        const was = sim.clocks[c.clock].wanderPpb;
        sim.clocks[c.clock].wanderPpb = c.ppb;
        return reply(true, `${name}: wander ${was} → ${c.ppb} ppb/√s`);
      }
      case "jitter": {
        const was = sim.clocks[c.clock].pdvNs;
        sim.clocks[c.clock].pdvNs = c.ns;
        return reply(true, `${name}: network jitter σ ${was} → ${c.ns} ns`);
      }
      case "syncInterval": {
        const was = sim.clocks[c.clock].logSyncInterval;
        sim.setSyncInterval(c.clock, c.log2);
        return reply(true, `${name}: sync interval ${2 ** was} → ${2 ** c.log2} s (logSyncInterval ${c.log2})`);
      }
      case "gains": {
        sim.setGains(c.clock, c.kp, c.ki);
        const s = sim.ptp4l[c.clock].servo;
        return reply(true, `${name}: servo kp ${s.kp}, ki ${s.ki}`);
      }
      case "stepClock":
        sim.stepPhc(c.clock, c.ns);
        return reply(true, `${name}: PHC stepped ${c.ns >= 0 ? "+" : ""}${c.ns / 1e6} ms`);
      case "stepGrandmaster":
        sim.stepGrandmaster(c.clock, c.ns);
        return reply(true, `${name}: grandmaster stepped ${c.ns >= 0 ? "+" : ""}${c.ns / 1e6} ms`);
      case "namespace": {
        const ns = this.kernel.createTimeNamespace({ monotonic: { sec: BigInt(c.monoS), nsec: 0n }, boottime: { sec: BigInt(c.bootS), nsec: 0n } });
        if (typeof ns === "number") {
          return reply(false, `time namespace refused: createTimeNamespace returned -${errno[ns] ?? -ns} (an offset that puts MONOTONIC or BOOTTIME below 0, or beyond KTIME_SEC_MAX / 2, is refused, as Linux refuses it)`);
        }
        this.ns = ns.view;
        return reply(true, `time namespace created: MONOTONIC ${c.monoS >= 0 ? "+" : ""}${c.monoS} s, BOOTTIME ${c.bootS >= 0 ? "+" : ""}${c.bootS} s`);
      }
      case "close":
        this.close();
        return;
    }
  }

  /** `kernel.close()`: the store is marked closed; readers carry the last state forward. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kernel.close();
    this.reader.close();
  }
}
