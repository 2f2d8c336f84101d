/**
 * NTP state and adjtimex (kernel/time/ntp.c), one instance per timekeeper.
 * All fixed-point quantities are BigInt in the kernel's own units, so that
 * read-back and rounding are the kernel's.
 */
import {
  ADJ_ADJTIME, ADJ_ESTERROR, ADJ_FREQUENCY, ADJ_MAXERROR, ADJ_MICRO, ADJ_NANO, ADJ_OFFSET, ADJ_OFFSET_READONLY,
  ADJ_OFFSET_SINGLESHOT, ADJ_SETOFFSET, ADJ_STATUS, ADJ_TAI, ADJ_TICK, ADJ_TIMECONST, STA_CLK, STA_CLOCKERR, STA_DEL,
  STA_FLL, STA_FREQHOLD, STA_INS, STA_MODE, STA_NANO, STA_PLL, STA_PPSERROR, STA_PPSFREQ, STA_PPSJITTER, STA_PPSSIGNAL,
  STA_PPSTIME, STA_PPSWANDER, STA_UNSYNC, TIME_DEL, TIME_ERROR, TIME_INS, TIME_OK, TIME_OOP, TIME_WAIT, type Timex,
} from "./timex.ts";
import { NSEC_PER_SEC, NSEC_PER_USEC, S64_MAX, S64_MIN } from "../time.ts";

const STA_RONLY = STA_PPSSIGNAL | STA_PPSJITTER | STA_PPSWANDER | STA_PPSERROR | STA_CLOCKERR | STA_NANO | STA_MODE | STA_CLK;
export const NTP_SCALE_SHIFT = 32n;
const SHIFT_USEC = 16n;
const SHIFT_PLL = 2n;
const SHIFT_FLL = 2n;
const MAXTC = 10;
export const PPM_SCALE = NSEC_PER_USEC << (NTP_SCALE_SHIFT - SHIFT_USEC);
const PPM_SCALE_INV_SHIFT = 19n;
const PPM_SCALE_INV = (1n << (PPM_SCALE_INV_SHIFT + NTP_SCALE_SHIFT)) / PPM_SCALE + 1n;
const MAXPHASE = 500_000_000n;
export const MAXFREQ = 500_000n;
export const MAXFREQ_SCALED = MAXFREQ << NTP_SCALE_SHIFT;
const MINSEC = 256n;
const MAXSEC = 2048n;
export const NTP_PHASE_LIMIT = (MAXPHASE / NSEC_PER_USEC) << 5n;
const MAX_TICKADJ = 500n;
const MAX_TAI_OFFSET = 100_000;
export const USER_HZ = 100;
export const USER_TICK_USEC = 10_000;
const SECS_PER_DAY = 86_400n;
export const TIME64_MAX = S64_MAX;

/** C's `shift_right`: rounds toward zero for negative values. */
export const shiftRight = (x: bigint, s: bigint) => (x < 0n ? -(-x >> s) : x >> s);
const clamp = (x: bigint, lo: bigint, hi: bigint) => (x < lo ? lo : x > hi ? hi : x);
const divTrunc = (a: bigint, b: bigint) => a / b; // BigInt division truncates, like C

export class Ntp {
  tickUsec = BigInt(USER_TICK_USEC);
  tickLength = 0n;
  tickLengthBase = 0n;
  timeState = TIME_OK;
  timeStatus = STA_UNSYNC;
  timeOffset = 0n;
  timeConstant = 2n;
  timeMaxerror = NTP_PHASE_LIMIT;
  timeEsterror = NTP_PHASE_LIMIT;
  timeFreq = 0n;
  timeReftime = 0n;
  timeAdjust = 0n;
  nextLeapSec = TIME64_MAX;

  /** `hz` is NTP_INTERVAL_FREQ, the kernel's CONFIG_HZ. */
  constructor(readonly hz: bigint) {
    this.clear();
  }

  /** `ntp_update_frequency`: tick length from tick_usec and time_freq, applied at once. */
  updateFrequency(): void {
    let secondLength = (this.tickUsec * NSEC_PER_USEC * BigInt(USER_HZ)) << NTP_SCALE_SHIFT;
    secondLength += this.timeFreq;
    const newBase = secondLength / this.hz;
    this.tickLength += newBase - this.tickLengthBase;
    this.tickLengthBase = newBase;
  }

  /** `__ntp_clear`. */
  clear(): void {
    this.timeAdjust = 0n;
    this.timeStatus |= STA_UNSYNC;
    this.timeMaxerror = NTP_PHASE_LIMIT;
    this.timeEsterror = NTP_PHASE_LIMIT;
    this.updateFrequency();
    this.tickLength = this.tickLengthBase;
    this.timeOffset = 0n;
    this.nextLeapSec = TIME64_MAX;
  }

  /** `second_overflow`: once per second of xtime. Returns the leap (-1 insert, +1 delete, 0). */
  secondOverflow(secs: bigint): number {
    let leap = 0;
    switch (this.timeState) {
      case TIME_OK:
        if (this.timeStatus & STA_INS) {
          this.timeState = TIME_INS;
          this.nextLeapSec = secs + SECS_PER_DAY - (secs % SECS_PER_DAY);
        } else if (this.timeStatus & STA_DEL) {
          this.timeState = TIME_DEL;
          this.nextLeapSec = secs + SECS_PER_DAY - ((secs + 1n) % SECS_PER_DAY);
        }
        break;
      case TIME_INS:
        if (!(this.timeStatus & STA_INS)) {
          this.nextLeapSec = TIME64_MAX;
          this.timeState = TIME_OK;
        } else if (secs === this.nextLeapSec) {
          leap = -1;
          this.timeState = TIME_OOP;
        }
        break;
      case TIME_DEL:
        if (!(this.timeStatus & STA_DEL)) {
          this.nextLeapSec = TIME64_MAX;
          this.timeState = TIME_OK;
        } else if (secs === this.nextLeapSec) {
          leap = 1;
          this.nextLeapSec = TIME64_MAX;
          this.timeState = TIME_WAIT;
        }
        break;
      case TIME_OOP:
        this.nextLeapSec = TIME64_MAX;
        this.timeState = TIME_WAIT;
        break;
      case TIME_WAIT:
        if (!(this.timeStatus & (STA_INS | STA_DEL))) this.timeState = TIME_OK;
        break;
    }
    this.timeMaxerror += MAXFREQ / NSEC_PER_USEC;
    if (this.timeMaxerror > NTP_PHASE_LIMIT) {
      this.timeMaxerror = NTP_PHASE_LIMIT;
      this.timeStatus |= STA_UNSYNC;
    }
    // The PLL's phase correction for the next second.
    this.tickLength = this.tickLengthBase;
    const delta = shiftRight(this.timeOffset, SHIFT_PLL + this.timeConstant);
    this.timeOffset -= delta;
    this.tickLength += delta;
    // adjtime(): slew at most 500 us per second.
    if (this.timeAdjust) {
      const scaled = ((MAX_TICKADJ * NSEC_PER_USEC) << NTP_SCALE_SHIFT) / this.hz;
      if (this.timeAdjust > MAX_TICKADJ) {
        this.timeAdjust -= MAX_TICKADJ;
        this.tickLength += scaled;
      } else if (this.timeAdjust < -MAX_TICKADJ) {
        this.timeAdjust += MAX_TICKADJ;
        this.tickLength -= scaled;
      } else {
        this.tickLength += divTrunc(this.timeAdjust * NSEC_PER_USEC, this.hz) << NTP_SCALE_SHIFT;
        this.timeAdjust = 0n;
      }
    }
    return leap;
  }

  /** `ntp_update_offset`: the PLL/FLL response to an ADJ_OFFSET. */
  private updateOffset(offset: bigint, realSecs: bigint): void {
    if (!(this.timeStatus & STA_PLL)) return;
    if (!(this.timeStatus & STA_NANO)) offset = clamp(offset, -1_000_000n, 1_000_000n) * NSEC_PER_USEC;
    offset = clamp(offset, -MAXPHASE, MAXPHASE);
    let secs = realSecs - this.timeReftime;
    if (this.timeStatus & STA_FREQHOLD) secs = 0n;
    this.timeReftime = realSecs;
    let freqAdj = 0n;
    this.timeStatus &= ~STA_MODE;
    if (secs >= MINSEC && (this.timeStatus & STA_FLL || secs > MAXSEC)) {
      this.timeStatus |= STA_MODE;
      freqAdj = divTrunc(offset << (NTP_SCALE_SHIFT - SHIFT_FLL), secs);
    }
    const cap = 1n << (SHIFT_PLL + 1n + this.timeConstant);
    if (secs > cap) secs = cap;
    freqAdj += (offset * secs) << (NTP_SCALE_SHIFT - 2n * (SHIFT_PLL + 2n + this.timeConstant));
    this.timeFreq = clamp(freqAdj + this.timeFreq, -MAXFREQ_SCALED, MAXFREQ_SCALED);
    this.timeOffset = divTrunc(offset << NTP_SCALE_SHIFT, this.hz);
  }

  /** `process_adj_status`. */
  private adjStatus(status: number, realSecs: bigint): void {
    if (this.timeStatus & STA_PLL && !(status & STA_PLL)) {
      this.timeState = TIME_OK;
      this.timeStatus = STA_UNSYNC;
      this.nextLeapSec = TIME64_MAX;
    }
    if (!(this.timeStatus & STA_PLL) && status & STA_PLL) this.timeReftime = realSecs;
    this.timeStatus &= STA_RONLY;
    this.timeStatus |= status & ~STA_RONLY;
  }

  /**
   * `__do_adjtimex` for an already validated timex: applies the modes, fills
   * the timex with the state, and returns the clock state (TIME_OK...).
   * `tai` is the timekeeper's TAI offset, changed in place by ADJ_TAI.
   * `now` is CLOCK_REALTIME (or the aux clock), `realSecs` its seconds.
   */
  adjtimex(txc: Timex, now: { sec: bigint; nsec: bigint }, tai: { value: number }): number {
    const realSecs = now.sec;
    if (txc.modes & ADJ_ADJTIME) {
      const save = this.timeAdjust;
      if (!(txc.modes & ADJ_OFFSET_READONLY)) {
        this.timeAdjust = txc.offset;
        this.updateFrequency();
      }
      txc.offset = save;
    } else {
      if (txc.modes) this.processModes(txc, tai, realSecs);
      txc.offset = shiftRight(this.timeOffset * this.hz, NTP_SCALE_SHIFT);
      if (!(this.timeStatus & STA_NANO)) txc.offset = BigInt.asUintN(32, txc.offset) / NSEC_PER_USEC;
    }
    let result = this.timeState;
    if (this.timeStatus & (STA_UNSYNC | STA_CLOCKERR)) result = TIME_ERROR;
    txc.freq = shiftRight((this.timeFreq >> PPM_SCALE_INV_SHIFT) * PPM_SCALE_INV, NTP_SCALE_SHIFT);
    txc.maxerror = this.timeMaxerror;
    txc.esterror = this.timeEsterror;
    txc.status = this.timeStatus;
    txc.constant = this.timeConstant;
    txc.precision = 1n;
    txc.tolerance = MAXFREQ_SCALED / PPM_SCALE;
    txc.tick = this.tickUsec;
    txc.tai = tai.value;
    txc.time = { sec: now.sec, usec: this.timeStatus & STA_NANO ? now.nsec : now.nsec / NSEC_PER_USEC };
    if (now.sec >= this.nextLeapSec) {
      if (this.timeState === TIME_INS && this.timeStatus & STA_INS) {
        result = TIME_OOP;
        txc.tai++;
        txc.time.sec--;
      }
      if (this.timeState === TIME_DEL && this.timeStatus & STA_DEL) {
        result = TIME_WAIT;
        txc.tai--;
        txc.time.sec++;
      }
      if (this.timeState === TIME_OOP && now.sec === this.nextLeapSec) result = TIME_WAIT;
    }
    return result;
  }

  private processModes(txc: Timex, tai: { value: number }, realSecs: bigint): void {
    if (txc.modes & ADJ_STATUS) this.adjStatus(txc.status, realSecs);
    if (txc.modes & ADJ_NANO) this.timeStatus |= STA_NANO;
    if (txc.modes & ADJ_MICRO) this.timeStatus &= ~STA_NANO;
    if (txc.modes & ADJ_FREQUENCY) this.timeFreq = clamp(txc.freq * PPM_SCALE, -MAXFREQ_SCALED, MAXFREQ_SCALED);
    if (txc.modes & ADJ_MAXERROR) this.timeMaxerror = clamp(txc.maxerror, 0n, NTP_PHASE_LIMIT);
    if (txc.modes & ADJ_ESTERROR) this.timeEsterror = clamp(txc.esterror, 0n, NTP_PHASE_LIMIT);
    if (txc.modes & ADJ_TIMECONST) {
      this.timeConstant = clamp(txc.constant, 0n, BigInt(MAXTC));
      if (!(this.timeStatus & STA_NANO)) this.timeConstant += 4n;
      this.timeConstant = clamp(this.timeConstant, 0n, BigInt(MAXTC));
    }
    if (txc.modes & ADJ_TAI && txc.constant >= 0n && txc.constant <= BigInt(MAX_TAI_OFFSET)) tai.value = Number(txc.constant);
    if (txc.modes & ADJ_OFFSET) this.updateOffset(txc.offset, realSecs);
    if (txc.modes & ADJ_TICK) this.tickUsec = txc.tick;
    if (txc.modes & (ADJ_TICK | ADJ_FREQUENCY | ADJ_OFFSET)) this.updateFrequency();
  }
}

/**
 * `timekeeping_validate_timex` (less the capability checks) of a timex already
 * copied by `timex()`: 0 or a negated errno. Nothing has been applied yet.
 */
export function validateTimex(txc: Timex, auxClock: boolean): number {
  const EINVAL = -22;
  if (txc.modes & ADJ_ADJTIME) {
    // Linux's test: ADJ_OFFSET_SINGLESHOT includes the ADJ_ADJTIME bit, so ADJ_ADJTIME alone passes.
    if (!(txc.modes & ADJ_OFFSET_SINGLESHOT)) return EINVAL;
  } else if (txc.modes & ADJ_TICK && (txc.tick < 900000n / BigInt(USER_HZ) || txc.tick > 1100000n / BigInt(USER_HZ))) {
    return EINVAL;
  }
  if (txc.modes & ADJ_SETOFFSET) {
    if (txc.time.usec < 0n) return EINVAL;
    if (txc.time.usec >= (txc.modes & ADJ_NANO ? NSEC_PER_SEC : 1_000_000n)) return EINVAL;
  }
  if (txc.modes & ADJ_FREQUENCY) {
    if (divTrunc(S64_MIN, PPM_SCALE) > txc.freq || divTrunc(S64_MAX, PPM_SCALE) < txc.freq) return EINVAL;
  }
  if (auxClock) {
    // Aux clocks have no leap seconds, no TAI offset and no PPS.
    if (txc.modes & ADJ_STATUS && txc.status & (STA_INS | STA_DEL)) return EINVAL;
    if (txc.modes & ADJ_TAI) return EINVAL;
    if (txc.modes & ADJ_STATUS && txc.status & (STA_PPSFREQ | STA_PPSTIME)) return EINVAL;
  }
  return 0;
}
