// Longer than ~350 lines on purpose: timekeeping_advance is here twice, in bigints and in numbers (the tick's fast path), side by side so they read as one.
/**
 * The timekeeper (kernel/time/timekeeping.c): accumulates counter cycles into
 * time tick by tick, steers its multiplier after NTP, and knows every clock
 * base. The same class serves the core timekeeper and the aux clocks (which
 * keep their xtime equal to their own monotonic time, plus `offsAux`).
 * Publication into the vDSO page is vsyscall.ts's job.
 */
import { HZ } from "../../assembly/layout.ts";
import type { Clocksource } from "./clocksource.ts";
import { Ntp, NTP_SCALE_SHIFT } from "./ntp.ts";
import { carryShifted, Cell, normalize, NSEC_PER_SEC, nsToTs, POW2, safeNumber, type Timespec, type TimespecN, TsOfNs, tsAdd } from "../time.ts";

/** CONFIG_HZ: the tick length NTP steers, and the coarse clocks' resolution in the vDSO. */
export const KERNEL_HZ = BigInt(HZ);
const NTP_INTERVAL_LENGTH = NSEC_PER_SEC / KERNEL_HZ;

/** `struct tk_read_base`: what a reader needs to turn a counter into time. */
export class TkReadBase {
  // cycle_last, xtime_nsec and mult: numbers while safe integers (the tick's fast path), read and set as bigints.
  readonly cl = new Cell();
  readonly xn = new Cell();
  readonly ml = new Cell();
  mask = 0n;
  shift = 0n;
  private shiftKey = -1n;
  private shiftNum = 0;

  get cycleLast(): bigint {
    return this.cl.big;
  }
  set cycleLast(v: bigint) {
    this.cl.big = v;
  }
  /** Shifted nanoseconds at cycleLast. */
  get xtimeNsec(): bigint {
    return this.xn.big;
  }
  set xtimeNsec(v: bigint) {
    this.xn.big = v;
  }
  get mult(): bigint {
    return this.ml.big;
  }
  set mult(v: bigint) {
    this.ml.big = v;
  }

  /** mult and shift as the page's u32s (shift converted only when it changed: Number(bigint) is slow). */
  multU32(): number {
    return this.ml.n === this.ml.n ? this.ml.n : Number(this.ml.big);
  }
  shiftU32(): number {
    if (this.shift !== this.shiftKey) this.shiftNum = Number((this.shiftKey = this.shift));
    return this.shiftNum;
  }

  /** `timekeeping_get_ns`: ns since the last second of xtime, at `cycles`. */
  ns(cycles: bigint): bigint {
    let delta = (cycles - this.cycleLast) & this.mask;
    // A counter behind cycle_last reads as no time elapsed (clocksource_delta).
    if (delta > this.mask >> 1n) delta = 0n;
    return (delta * this.mult + this.xtimeNsec) >> this.shift;
  }
}

/** BigInt(n) for a shift count, without a conversion per use. */
const SHIFTS = Array.from({ length: 64 }, (_, i) => BigInt(i));

/** `x & mask` for 0 <= x, skipped when it changes nothing (a BigInt & allocates). `low`: mask is 2^k - 1. */
const wrap = (x: bigint, mask: bigint, low: boolean) => (low && x <= mask ? x : x & mask);

/** `ilog2`: the highest set bit, 32 bits at a time (a BigInt's toString(2) was the tick's hottest line). */
function ilog2(x: bigint): number {
  if (x <= 0n) return -1;
  let base = 0;
  while (x >= 0x1_0000_0000n) {
    x >>= 32n;
    base += 32;
  }
  return base + 31 - Math.clz32(Number(x));
}

/** ilog2 of a positive safe integer (exact: the division by 2^32 is). */
const ilog2N = (x: number) => (x >= 0x1_0000_0000 ? 63 - Math.clz32(Math.floor(x / 0x1_0000_0000)) : 31 - Math.clz32(x));

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Below this a sum or product of safe integers is exact, with room for a bound's own rounding. */
const LIMIT = Number.MAX_SAFE_INTEGER - 2 ** 21;

export class Timekeeper {
  /** Whether the tick may take the number path (tests turn it off to compare the two). */
  static numbers = true;
  readonly mono = new TkReadBase();
  readonly raw = new TkReadBase();
  // xtime_sec, raw_sec, ntp_error, xtime_interval, coarse ns: cells like tk_read_base's.
  readonly xs = new Cell();
  readonly rs = new Cell();
  readonly ne = new Cell();
  readonly xi = new Cell();
  readonly cn = new Cell();
  cycleInterval = 0n;
  xtimeRemainder = 0n;
  rawInterval = 0n;
  ntpTick = 0n;
  ntpErrorShift = 0n;
  ntpErrMult = 0n;
  skipSecondOverflow = false;
  wallToMonotonic: Timespec = { sec: 0n, nsec: 0n };
  /** `monotonic_to_boot` (core) or `offs_aux` (aux clocks), in ns. */
  offsBoot = 0n;
  offsAux = 0n;
  /** offs_boot and offs_aux as timespecs, for the publication. */
  readonly bootTs = new TsOfNs();
  readonly auxTs = new TsOfNs();
  taiOffset = 0;
  readonly ntp = new Ntp(KERNEL_HZ);
  /** NSEC_PER_SEC << shift: a second in shifted nanoseconds (mono and raw). */
  private nsecPerSecShifted = 0n;
  private rawNsecPerSecShifted = 0n;
  /** Whether the mask is 2^k - 1 (then a value in [0, mask] needs no masking). */
  private lowMask = false;
  // Values the tick derives from rarely changing state, each kept with the
  // state it came from (compared by value, so a field set from outside is seen).
  private ciKey = -1n;
  /** 2 << ilog2(cycleInterval): an offset below it accumulates at shift 0. */
  private ciTwice = 0n;
  private ciLog = 0;
  private ciTwiceN = NaN;
  private tlKey = -1n;
  private maxShift = 0;
  private stepKey = [-1n, -1n];
  /** `ntp_tick - ((xtime_interval + xtime_remainder) << ntp_error_shift)`: the error one interval adds. */
  private errStep = 0n;
  // The number path's constants (NaN where not safe integers: then it is not taken).
  private ciN = NaN;
  private riN = NaN;
  private nspsN = NaN;
  private rnspsN = NaN;
  /** 2^shift and 2^ntp_error_shift. */
  private shiftP = NaN;
  private errP = NaN;
  /** Whether cycle_last can never need the mask on the number path (it stays below 2^53 there). */
  private wideMask = false;
  private stepN = NaN;
  private stepXi = NaN;
  private stepTick = -1n;

  constructor(
    public cs: Clocksource,
    readonly isAux = false,
  ) {
    this.setupInternals(cs);
  }

  get xtimeSec(): bigint {
    return this.xs.big;
  }
  set xtimeSec(v: bigint) {
    this.xs.big = v;
  }
  get rawSec(): bigint {
    return this.rs.big;
  }
  set rawSec(v: bigint) {
    this.rs.big = v;
  }
  /** NTP time minus clock time, in shifted ns << ntpErrorShift. */
  get ntpError(): bigint {
    return this.ne.big;
  }
  set ntpError(v: bigint) {
    this.ne.big = v;
  }
  get xtimeInterval(): bigint {
    return this.xi.big;
  }
  set xtimeInterval(v: bigint) {
    this.xi.big = v;
  }
  /** Plain ns of REALTIME at the last accumulation: the coarse clocks. */
  get coarseNsec(): bigint {
    return this.cn.big;
  }
  set coarseNsec(v: bigint) {
    this.cn.big = v;
  }

  private w2mKey: Timespec = { sec: 0n, nsec: 0n };
  private w2mN: TimespecN = { sec: 0n, nsec: 0n, secN: 0, nsecN: 0 };
  /** wall_to_monotonic with number fields (NaN where unsafe), made again when it changed. */
  w2mTs(): TimespecN {
    const w = this.wallToMonotonic;
    if (w.sec !== this.w2mKey.sec || w.nsec !== this.w2mKey.nsec) {
      this.w2mKey = w;
      this.w2mN = { sec: w.sec, nsec: w.nsec, secN: safeNumber(w.sec), nsecN: safeNumber(w.nsec) };
    }
    return this.w2mN;
  }

  /** `tk_setup_internals`: intervals and NTP scaling for a clocksource, time kept. */
  setupInternals(cs: Clocksource): void {
    this.cs = cs;
    const now = cs.read();
    for (const tkr of [this.mono, this.raw]) {
      tkr.cycleLast = now;
      tkr.mask = cs.mask;
      tkr.mult = BigInt(cs.mult);
      tkr.shift = BigInt(cs.shift);
    }
    const shift = BigInt(cs.shift);
    const mult = BigInt(cs.mult);
    const ntpInterval = NTP_INTERVAL_LENGTH << shift;
    let interval = (ntpInterval + mult / 2n) / mult;
    if (interval === 0n) interval = 1n;
    this.cycleInterval = interval;
    this.xtimeInterval = interval * mult;
    this.xtimeRemainder = ntpInterval - this.xtimeInterval;
    this.rawInterval = interval * mult;
    this.ntpError = 0n;
    this.ntpErrorShift = NTP_SCALE_SHIFT - shift;
    this.ntpTick = ntpInterval << this.ntpErrorShift;
    this.ntpErrMult = 0n;
    this.skipSecondOverflow = false;
    this.nsecPerSecShifted = NSEC_PER_SEC << shift;
    this.rawNsecPerSecShifted = NSEC_PER_SEC << this.raw.shift;
    this.lowMask = (cs.mask & (cs.mask + 1n)) === 0n;
    this.stepKey = [-1n, -1n]; // xtime_remainder and ntp_error_shift changed with it
    this.ciN = safeNumber(interval);
    this.riN = safeNumber(this.rawInterval);
    this.nspsN = safeNumber(this.nsecPerSecShifted);
    this.rnspsN = safeNumber(this.rawNsecPerSecShifted);
    this.shiftP = this.mono.shift === this.raw.shift && shift <= 52n ? 2 ** cs.shift : NaN;
    this.errP = this.ntpErrorShift >= 0n && this.ntpErrorShift <= 52n ? 2 ** Number(this.ntpErrorShift) : NaN;
    this.wideMask = this.lowMask && cs.mask >= 1n << 53n;
    this.stepXi = NaN;
  }


  /** `accumulate_nsecs_to_secs`: whole seconds of xtime_nsec into xtime_sec, with NTP's second hook. */
  private accumulateNsecsToSecs(): void {
    const nsecps = this.nsecPerSecShifted;
    while (this.mono.xtimeNsec >= nsecps) {
      this.mono.xtimeNsec -= nsecps;
      this.xtimeSec++;
      if (this.skipSecondOverflow) {
        this.skipSecondOverflow = false;
        continue;
      }
      const leap = this.ntp.secondOverflow(this.xtimeSec);
      if (leap !== 0) {
        this.xtimeSec += BigInt(leap);
        this.wallToMonotonic = normalize(this.wallToMonotonic.sec - BigInt(leap), this.wallToMonotonic.nsec);
        this.taiOffset -= leap;
      }
    }
  }

  /**
   * `logarithmic_accumulation`: one chunk of `cycleInterval << shift` cycles.
   * The two ntp_error lines of Linux are one here: (a << s) - (b << (e + s))
   * is (a - (b << e)) << s for integers, and a - (b << e) is `errStep`.
   */
  private logarithmicAccumulation(offset: bigint, shift: number): bigint {
    const s = SHIFTS[shift];
    const interval = shift ? this.cycleInterval << s : this.cycleInterval;
    if (offset < interval) return offset;
    offset -= interval;
    const last = this.mono.cycleLast;
    this.mono.cycleLast = wrap(last + interval, this.mono.mask, this.lowMask);
    // Linux keeps raw's cycle_last equal to mono's: the same sum, made once.
    const same = this.raw.cycleLast === last && this.raw.mask === this.mono.mask;
    this.raw.cycleLast = same ? this.mono.cycleLast : wrap(this.raw.cycleLast + interval, this.raw.mask, this.lowMask);
    this.mono.xtimeNsec += shift ? this.xtimeInterval << s : this.xtimeInterval;
    this.accumulateNsecsToSecs();
    this.raw.xtimeNsec += shift ? this.rawInterval << s : this.rawInterval;
    if (this.raw.xtimeNsec >= this.rawNsecPerSecShifted) {
      this.rawSec += this.raw.xtimeNsec / this.rawNsecPerSecShifted;
      this.raw.xtimeNsec %= this.rawNsecPerSecShifted;
    }
    const step = this.errorStep();
    if (step !== 0n) this.ntpError += shift ? step << s : step;
    return offset;
  }

  /** `errStep` for the current ntp_tick and xtime_interval. */
  private errorStep(): bigint {
    const k = this.stepKey;
    if (k[0] !== this.ntpTick || k[1] !== this.xtimeInterval) {
      k[0] = this.ntpTick;
      k[1] = this.xtimeInterval;
      this.errStep = this.ntpTick - ((this.xtimeInterval + this.xtimeRemainder) << this.ntpErrorShift);
    }
    return this.errStep;
  }

  /** `timekeeping_apply_adjustment`: change mult by `adj` without a jump in time. */
  private applyAdjustment(offset: bigint, adj: bigint): void {
    if (adj === 0n) return;
    this.mono.mult += adj;
    this.xtimeInterval += this.cycleInterval * adj;
    // Time at `now` stays the same: the unaccumulated cycles now count adj more each.
    const moved = offset * adj;
    this.mono.xtimeNsec -= moved;
    // The next accumulation counts the whole interval at the new mult; the
    // error account gets back what the line above took.
    this.ntpError += moved << this.ntpErrorShift;
  }

  /** `timekeeping_adjust`: mult from NTP's tick length, +1 while the clock is behind NTP. */
  private adjust(offset: bigint): void {
    const ntpTl = this.ntp.tickLength;
    const errMult = this.ntpError > 0n ? 1n : 0n;
    if (this.ntpTick === ntpTl) {
      // mult - old ntp_err_mult + new one: only the error bit can move it.
      const adj = errMult === this.ntpErrMult ? 0n : errMult - this.ntpErrMult;
      this.ntpErrMult = errMult;
      this.applyAdjustment(offset, adj);
    } else {
      this.ntpTick = ntpTl;
      const mult = ((this.ntpTick >> this.ntpErrorShift) - this.xtimeRemainder) / this.cycleInterval + errMult;
      this.ntpErrMult = errMult;
      this.applyAdjustment(offset, mult - this.mono.mult);
    }
    if (this.mono.xtimeNsec < 0n) {
      this.mono.xtimeNsec += this.nsecPerSecShifted;
      this.xtimeSec--;
      this.skipSecondOverflow = true;
    }
  }

  /**
   * `timekeeping_advance`: accumulate the elapsed whole ticks, then re-steer.
   * `tick` does nothing before a whole tick has passed; `freq` always re-steers
   * (a frequency just changed). Returns whether anything changed.
   */
  advance(mode: "tick" | "freq"): boolean {
    const now = this.cs.read();
    if (mode === "tick" && Timekeeper.numbers) {
      const done = this.advanceNumbers(now);
      if (done !== undefined) return done;
    }
    const ci = this.cycleInterval;
    let offset = now - this.mono.cycleLast;
    offset = offset < 0n ? offset & this.mono.mask : wrap(offset, this.mono.mask, this.lowMask);
    if (offset < ci && mode === "tick") return false;
    this.shiftLimits();
    // ilog2(offset) - ilog2(cycle_interval), 0 without a log when offset < 2 << ilog2(ci).
    let shift = offset < this.ciTwice ? 0 : Math.max(0, ilog2(offset) - this.ciLog);
    if (shift > this.maxShift) shift = this.maxShift;
    const accumulated = offset >= ci;
    while (offset >= ci) {
      offset = this.logarithmicAccumulation(offset, shift);
      if (shift > 0 && offset < ci << SHIFTS[shift]) shift--;
    }
    // Coarse time is the time of the accumulation point, before re-steering,
    // so it never steps back.
    if (accumulated) this.coarseNsec = this.mono.xtimeNsec >> this.mono.shift;
    this.adjust(offset);
    this.accumulateNsecsToSecs();
    return true;
  }

  /** ilog2(cycle_interval) and maxshift, kept with what they came from. */
  private shiftLimits(): void {
    const ci = this.cycleInterval;
    if (ci !== this.ciKey) {
      this.ciKey = ci;
      this.ciLog = ilog2(ci);
      this.ciTwice = ci > 0n ? 2n << SHIFTS[this.ciLog] : 0n;
      this.ciTwiceN = safeNumber(this.ciTwice);
    }
    if (this.ntp.tickLength !== this.tlKey) {
      this.tlKey = this.ntp.tickLength;
      this.maxShift = 64 - (ilog2(this.tlKey) + 1) - 1;
    }
  }

  /**
   * `timekeeping_advance` for a tick, in numbers: the same steps on the same
   * cells, exact, taken only where every value provably stays a safe integer
   * (checked before anything changes; undefined: not taken). The bounds:
   * cycle_last stays at most `now`; xtime_nsec starts below NSEC_PER_SEC <<
   * shift, each chunk adds xtime_interval per cycle_interval of offset, and
   * whole seconds leave after every chunk (raw likewise); ntp_error moves by
   * its step per interval plus one adjustment of under offset <<
   * ntp_error_shift (the error bit moves mult by one at most). A new tick
   * length re-steers in bigints, on the same cells.
   */
  private advanceNumbers(now: bigint): boolean | undefined {
    const m = this.mono;
    const r = this.raw;
    const ci = this.ciN;
    const xi = this.xi.n;
    // A NaN anywhere (a value only a bigint holds, a constant no safe integer holds) makes the sum NaN.
    const all = m.cl.n + m.xn.n + r.xn.n + this.xs.n + this.rs.n + this.ne.n + xi + m.ml.n + ci + this.nspsN + this.rnspsN + this.riN + this.shiftP + this.errP;
    if (all !== all || !this.wideMask || m.cl.n !== r.cl.n || now > MAX_SAFE || (this.ntpErrMult !== 0n && this.ntpErrMult !== 1n)) return undefined;
    let offset = Number(now) - m.cl.n;
    if (offset < 0) return undefined; // the counter wrapped: the mask's business
    if (offset < ci) return false;
    const step = this.stepNumber(xi);
    const per = offset / ci; // at least the sum of 2^shift over the chunks
    const bounded =
      m.xn.n >= 0 && m.xn.n < this.nspsN && r.xn.n >= 0 && r.xn.n < this.rnspsN && Math.abs(this.xs.n) < 2 ** 52 && Math.abs(this.rs.n) < 2 ** 52 &&
      Math.abs(xi) + ci < LIMIT && this.nspsN + Math.abs(xi) * per < LIMIT && this.rnspsN + this.riN * per < LIMIT &&
      Math.abs(this.ne.n) + Math.abs(step) * per + offset * this.errP < LIMIT;
    if (!bounded) return undefined;
    this.shiftLimits();
    let shift = offset < this.ciTwiceN ? 0 : Math.max(0, ilog2N(offset) - this.ciLog);
    if (shift > this.maxShift) shift = this.maxShift;
    const accumulated = offset >= ci;
    while (offset >= ci) {
      // logarithmic_accumulation
      const p = POW2[shift];
      const interval = ci * p;
      if (offset >= interval) {
        offset -= interval;
        m.cl.put(m.cl.n + interval);
        r.cl.put(m.cl.n);
        m.xn.put(m.xn.n + xi * p);
        this.secondsNumbers();
        let raw = r.xn.n + this.riN * p;
        let rawSec = this.rs.n;
        for (; raw >= this.rnspsN; rawSec++) raw -= this.rnspsN;
        r.xn.put(raw);
        this.rs.put(rawSec);
        if (step !== 0) this.ne.put(this.ne.n + step * p);
      }
      if (shift > 0 && offset < ci * POW2[shift]) shift--;
    }
    if (accumulated) this.cn.put(Math.floor(m.xn.n / this.shiftP));
    if (this.ntp.tickLength !== this.ntpTick) {
      this.adjust(BigInt(offset));
      this.accumulateNsecsToSecs();
      return true;
    }
    // timekeeping_adjust with the same tick length: only the error bit moves mult.
    const errMult = this.ne.n > 0 ? 1 : 0;
    const adj = errMult - (this.ntpErrMult === 1n ? 1 : 0);
    this.ntpErrMult = errMult ? 1n : 0n;
    if (adj !== 0) {
      m.ml.put(m.ml.n + adj);
      this.xi.put(xi + ci * adj);
      const moved = offset * adj;
      m.xn.put(m.xn.n - moved);
      this.ne.put(this.ne.n + moved * this.errP);
    }
    if (m.xn.n < 0) {
      m.xn.put(m.xn.n + this.nspsN);
      this.xs.put(this.xs.n - 1);
      this.skipSecondOverflow = true;
    }
    this.secondsNumbers();
    return true;
  }

  /** `accumulate_nsecs_to_secs` on the number path. */
  private secondsNumbers(): void {
    const m = this.mono;
    while (m.xn.n >= this.nspsN) {
      m.xn.put(m.xn.n - this.nspsN);
      this.xs.put(this.xs.n + 1);
      if (this.skipSecondOverflow) {
        this.skipSecondOverflow = false;
        continue;
      }
      const leap = this.ntp.secondOverflow(this.xtimeSec);
      if (leap !== 0) {
        this.xs.put(this.xs.n + leap);
        this.wallToMonotonic = normalize(this.wallToMonotonic.sec - BigInt(leap), this.wallToMonotonic.nsec);
        this.taiOffset -= leap;
      }
    }
  }

  /** `errStep` as a number (NaN if it is no safe integer), for xtime_interval `xi`. */
  private stepNumber(xi: number): number {
    if (xi !== this.stepXi || this.ntpTick !== this.stepTick) {
      this.stepXi = xi;
      this.stepTick = this.ntpTick;
      this.stepN = safeNumber(this.ntpTick - ((BigInt(xi) + this.xtimeRemainder) << this.ntpErrorShift));
    }
    return this.stepN;
  }

  /**
   * `timekeeping_forward_now`: fold every cycle up to `now` into xtime (before
   * a set or a switch). Pass the counter a caller already checked against.
   */
  forwardNow(now = this.cs.read()): void {
    let delta = (now - this.mono.cycleLast) & this.mono.mask;
    if (delta > this.mono.mask >> 1n) delta = 0n;
    this.mono.cycleLast = now;
    this.raw.cycleLast = now;
    this.mono.xtimeNsec += delta * this.mono.mult;
    this.raw.xtimeNsec += delta * this.raw.mult;
    this.normalizeXtime();
  }

  /** `tk_normalize_xtime`. */
  private normalizeXtime(): void {
    [this.xtimeSec, this.mono.xtimeNsec] = carryShifted(this.xtimeSec, this.mono.xtimeNsec, this.mono.shift);
    [this.rawSec, this.raw.xtimeNsec] = carryShifted(this.rawSec, this.raw.xtimeNsec, this.raw.shift);
  }

  /** `tk_set_xtime`: xtime := ts (sub-ns bits cleared), coarse time with it. */
  setXtime(t: Timespec): void {
    this.xtimeSec = t.sec;
    this.mono.xtimeNsec = t.nsec << this.mono.shift;
    this.coarseNsec = t.nsec;
  }

  /** `tk_xtime_add`. */
  addXtime(t: Timespec): void {
    this.xtimeSec += t.sec;
    this.mono.xtimeNsec += t.nsec << this.mono.shift;
    this.normalizeXtime();
    this.coarseNsec = this.mono.xtimeNsec >> this.mono.shift;
  }

  // The clocks, as the syscalls compute them.

  /** xtime at `cycles`: CLOCK_REALTIME (core) or the aux clock's monotonic time. */
  xtime(cycles = this.cs.read()): Timespec {
    return normalize(this.xtimeSec, this.mono.ns(cycles));
  }
  realtime(cycles?: bigint): Timespec {
    return this.xtime(cycles);
  }
  monotonic(cycles?: bigint): Timespec {
    return tsAdd(this.xtime(cycles), this.wallToMonotonic);
  }
  boottime(cycles?: bigint): Timespec {
    return tsAdd(this.monotonic(cycles), nsToTs(this.offsBoot));
  }
  tai(cycles?: bigint): Timespec {
    const t = this.xtime(cycles); // one counter read: sec and nsec of the same instant
    return { sec: t.sec + BigInt(this.taiOffset), nsec: t.nsec };
  }
  monotonicRaw(cycles = this.cs.read()): Timespec {
    return normalize(this.rawSec, this.raw.ns(cycles));
  }
  realtimeCoarse(): Timespec {
    return { sec: this.xtimeSec, nsec: this.coarseNsec };
  }
  monotonicCoarse(): Timespec {
    return normalize(this.xtimeSec + this.wallToMonotonic.sec, this.coarseNsec + this.wallToMonotonic.nsec);
  }
  /** An aux clock: its monotonic time plus offs_aux. */
  auxTime(cycles?: bigint): Timespec {
    return tsAdd(this.xtime(cycles), nsToTs(this.offsAux));
  }
}
