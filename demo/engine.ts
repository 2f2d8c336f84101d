/**
 * The demo's machine: a kernel on a virtual counter, eight simulated PTP
 * clocks steering aux clocks 0..7, advanced in steps of scaled wall time. It
 * runs in a Worker over shared memory (or in the page when it cannot).
 */
// The demo calls the package's public API (src/index.ts), as a user calls "wasm-vdso".
import { createReader, Kernel, ntp, PtpSimulation, type Sample, seededClocks, type View, VirtualClocksource } from "../src/index.ts";

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
  | { op: "namespace"; monoS: number; bootS: number };

export interface Batch {
  samples: Sample[];
  logs: string[];
  simTime: number;
  states: number[];
  /** A namespace view created on request, for the page's reader. */
  namespace?: View;
}

export const CLOCKS = 8;

export class Engine {
  speed = 1;
  private samples: Sample[] = [];
  private logs: string[] = [];
  private ns?: Batch["namespace"];

  private constructor(
    readonly kernel: Kernel,
    readonly cs: VirtualClocksource,
    readonly sim: PtpSimulation,
  ) {}

  static async create(memory?: WebAssembly.Memory): Promise<Engine> {
    const cs = new VirtualClocksource();
    const now = Date.now();
    const kernel = await Kernel.create({ clocksource: cs, memory, realtime: { sec: BigInt(Math.floor(now / 1000)), nsec: 0n } });
    kernel.adjtimex(ntp.timex({ modes: ntp.ADJ_TAI, constant: 37n })); // TAI - UTC = 37 s
    const { clocks, sysPpm } = seededClocks(CLOCKS, 2026);
    // ptp4l's step_threshold at 100 us (linuxptp's default 0 never steps after the first lock):
    // a visitor's 1 ms step then sends the servo back through s0 and s1 to s2.
    for (const c of clocks) c.servo = { ...c.servo, stepThreshold: 100_000 };
    let self: Engine | undefined;
    const sim = new PtpSimulation(kernel, await createReader(kernel), cs, clocks, {
      seed: 2026,
      sysPpm,
      log: (l) => self?.logs.push(l),
      onSample: (s) => self?.samples.push(s),
    });
    self = new Engine(kernel, cs, sim);
    return self;
  }

  /** Advances virtual time by `realMs` of wall time times the speed; returns what happened. */
  step(realMs: number): Batch {
    if (this.speed > 0) this.sim.run((realMs * this.speed) / 1000);
    const b: Batch = {
      samples: this.samples,
      logs: this.logs.slice(-200),
      simTime: this.sim.t / 1e9,
      states: this.sim.ptp4l.map((p) => p.state),
      namespace: this.ns,
    };
    this.samples = [];
    this.logs = [];
    this.ns = undefined;
    return b;
  }

  control(c: Control): void {
    const sim = this.sim;
    switch (c.op) {
      case "speed":
        this.speed = c.value;
        break;
      case "aux":
        this.kernel.auxClockEnable(c.clock, c.enabled);
        if (c.enabled) sim.resetPhc2sys(c.clock);
        break;
      case "oscillator":
        sim.setOscillator(c.clock, c.ppm);
        break;
      case "wander":
        sim.clocks[c.clock].wanderPpb = c.ppb;
        break;
      case "jitter":
        sim.clocks[c.clock].pdvNs = c.ns;
        break;
      case "syncInterval":
        sim.setSyncInterval(c.clock, c.log2);
        break;
      case "gains":
        sim.setGains(c.clock, c.kp, c.ki);
        break;
      case "stepClock":
        sim.stepPhc(c.clock, c.ns);
        break;
      case "stepGrandmaster":
        sim.stepGrandmaster(c.clock, c.ns);
        break;
      case "namespace": {
        const ns = this.kernel.createTimeNamespace({ monotonic: { sec: BigInt(c.monoS), nsec: 0n }, boottime: { sec: BigInt(c.bootS), nsec: 0n } });
        if (typeof ns !== "number") this.ns = ns.view;
        break;
      }
    }
  }
}
