/**
 * linuxptp's PI servo (pi.c, servo.c), same arithmetic: the first two samples
 * estimate the frequency, a first offset above first_step_threshold asks for a
 * step (s1), then PI control with anti-windup at max_frequency (s2), and s3
 * once offset_threshold holds for num_offset_values samples.
 */
export enum ServoState {
  UNLOCKED = 0,
  JUMP = 1,
  LOCKED = 2,
  LOCKED_STABLE = 3,
}

export interface PiConfig {
  /** pi_proportional_const / pi_integral_const: used as-is when both set. */
  kpConst?: number;
  kiConst?: number;
  /** scales; 0 picks linuxptp's hardware-timestamping defaults 0.7 / 0.3. */
  kpScale?: number;
  kpExponent?: number;
  kpNormMax?: number;
  kiScale?: number;
  kiExponent?: number;
  kiNormMax?: number;
  /** ns; 0 = never step after the first lock (linuxptp default). */
  stepThreshold?: number;
  /** ns; default 20 us. */
  firstStepThreshold?: number;
  /** ppb; min(config 900000000, the clock's max adjustment). */
  maxFrequency?: number;
  /** ns; 0 disables s3. */
  offsetThreshold?: number;
  numOffsetValues?: number;
}

/** Gains for a sync interval in seconds (pi_sync_interval). */
export function piGains(interval: number, c: PiConfig = {}): { kp: number; ki: number } {
  if (c.kpConst && c.kiConst) {
    // constants given: used as they are, the norm caps still apply
    return { kp: Math.min(c.kpConst, 1.0 / interval), ki: Math.min(c.kiConst, 2.0 / interval) };
  }
  const kpScale = c.kpScale || 0.7;
  const kiScale = c.kiScale || 0.3;
  let kp = kpScale * Math.pow(interval, c.kpExponent ?? -0.3);
  if (kp > (c.kpNormMax ?? 0.7) / interval) kp = (c.kpNormMax ?? 0.7) / interval;
  let ki = kiScale * Math.pow(interval, c.kiExponent ?? 0.4);
  if (ki > (c.kiNormMax ?? 0.3) / interval) ki = (c.kiNormMax ?? 0.3) / interval;
  return { kp, ki };
}

const FREQ_EST_MARGIN = 0.001;

export class PiServo {
  kp = 0;
  ki = 0;
  drift: number;
  lastFreq: number;
  private count = 0;
  private offsets = [0, 0];
  private locals = [0, 0];
  private firstUpdate = true;
  private currOffsetValues: number;
  readonly maxFrequency: number;
  readonly stepThreshold: number;
  readonly firstStepThreshold: number;
  readonly offsetThreshold: number;
  readonly numOffsetValues: number;

  /** `fadj`: the clock's frequency adjustment now (ppb), the servo's starting drift. */
  constructor(
    public config: PiConfig = {},
    fadj = 0,
    clockMaxPpb = 500_000,
  ) {
    this.maxFrequency = Math.min(config.maxFrequency ?? 900_000_000, clockMaxPpb);
    this.stepThreshold = config.stepThreshold ?? 0;
    this.firstStepThreshold = config.firstStepThreshold ?? 20_000;
    this.offsetThreshold = config.offsetThreshold ?? 0;
    this.numOffsetValues = config.numOffsetValues ?? 10;
    this.currOffsetValues = this.numOffsetValues;
    this.drift = fadj;
    this.lastFreq = fadj;
    this.syncInterval(1);
  }

  /** `servo_sync_interval`. */
  syncInterval(interval: number): void {
    ({ kp: this.kp, ki: this.ki } = piGains(interval, this.config));
  }

  /** `pi_sample` + `servo_sample`: the frequency adjustment in ppb (applied negated) and the state. */
  sample(offset: number, localTs: number, weight = 1): { ppb: number; state: ServoState } {
    let state: ServoState;
    let ppb = this.lastFreq;
    switch (this.count) {
      case 0:
        this.offsets[0] = offset;
        this.locals[0] = localTs;
        state = ServoState.UNLOCKED;
        this.count = 1;
        break;
      case 1: {
        this.offsets[1] = offset;
        this.locals[1] = localTs;
        if (this.locals[0] >= this.locals[1]) {
          state = ServoState.UNLOCKED;
          this.count = 0;
          break;
        }
        // Wait long enough before estimating the frequency offset.
        let localdiff = (this.locals[1] - this.locals[0]) / 1e9;
        localdiff += localdiff * FREQ_EST_MARGIN;
        const freqEstInterval = Math.min(0.016 / this.ki, 1000.0);
        if (localdiff < freqEstInterval) {
          state = ServoState.UNLOCKED;
          break;
        }
        this.drift += ((1e9 - this.drift) * (this.offsets[1] - this.offsets[0])) / (this.locals[1] - this.locals[0]);
        this.drift = Math.max(-this.maxFrequency, Math.min(this.maxFrequency, this.drift));
        const abs = Math.abs(offset);
        if ((this.firstUpdate && this.firstStepThreshold && this.firstStepThreshold < abs) || (this.stepThreshold && this.stepThreshold < abs)) {
          state = ServoState.JUMP;
        } else {
          state = ServoState.LOCKED;
        }
        ppb = this.drift;
        this.count = 2;
        break;
      }
      default: {
        if (this.stepThreshold && this.stepThreshold < Math.abs(offset)) {
          state = ServoState.UNLOCKED;
          this.count = 0;
          break;
        }
        const kiTerm = this.ki * offset * weight;
        ppb = this.kp * offset * weight + this.drift + kiTerm;
        if (ppb < -this.maxFrequency) ppb = -this.maxFrequency;
        else if (ppb > this.maxFrequency) ppb = this.maxFrequency;
        else this.drift += kiTerm; // anti-windup: no integration while clamped
        state = ServoState.LOCKED;
        break;
      }
    }
    this.lastFreq = ppb;
    // servo.c: first_update and the s3 bookkeeping
    if (state === ServoState.UNLOCKED || state === ServoState.JUMP) this.currOffsetValues = this.numOffsetValues;
    if (state === ServoState.JUMP || state === ServoState.LOCKED) this.firstUpdate = false;
    if (state === ServoState.LOCKED && this.offsetThreshold) {
      if (Math.abs(offset) < this.offsetThreshold) {
        if (this.currOffsetValues) this.currOffsetValues--;
      } else {
        this.currOffsetValues = this.numOffsetValues;
      }
      if (!this.currOffsetValues) state = ServoState.LOCKED_STABLE;
    }
    return { ppb, state };
  }
}
