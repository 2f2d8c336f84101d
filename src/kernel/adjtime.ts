/**
 * `do_adjtimex` and `timekeeping_inject_offset` (kernel/time/timekeeping.c)
 * on one timekeeper, the core or an aux clock: every check and NTP's part
 * (ntp.ts) on a copy first, then the change.
 */
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, ADJ_TICK, type Timex } from "./timex.ts";
import { Ntp, validateTimex } from "./ntp.ts";
import type { Timekeeper } from "./timekeeper.ts";
import { NSEC_PER_SEC, type Timespec, tsAdd, tsCompare, tsSub, tsToNs, tsValidSettod } from "../time.ts";
import { EINVAL } from "../../assembly/layout.ts";

/**
 * `timekeeping_inject_offset`: every check at one counter reading, then the
 * change. Core: REALTIME and TAI move, MONOTONIC does not. Aux: offs_aux
 * moves; the resulting time must be a valid time to set (not negative, not
 * beyond TIME_SETTOD_SEC_MAX) on both.
 */
function checkInjectOffset(tk: Timekeeper, delta: Timespec, now: bigint): number {
  if (delta.nsec < 0n || delta.nsec >= NSEC_PER_SEC) return -EINVAL;
  if (tk.isAux) return tsValidSettod(tsAdd(tk.auxTime(now), delta)) ? 0 : -EINVAL;
  if (tsCompare(tk.wallToMonotonic, delta) > 0 || !tsValidSettod(tsAdd(tk.xtime(now), delta))) return -EINVAL;
  return 0;
}

function injectOffset(tk: Timekeeper, delta: Timespec, now: bigint): void {
  tk.forwardNow(now);
  if (tk.isAux) {
    tk.offsAux += tsToNs(delta);
    return;
  }
  tk.addXtime(delta);
  tk.wallToMonotonic = tsSub(tk.wallToMonotonic, delta);
}

/** An adjtimex that passed every check: its result and read-back, and the change, not yet made. */
export interface PreparedAdjtimex {
  result: number;
  /** Makes the change (the offset, NTP's state, the TAI offset), publishing through `republish`. */
  commit(republish: () => void): void;
}

/**
 * `do_adjtimex` on a timekeeper, for a timex already copied by `timex()`, in
 * two steps: every check (validation, the offset's range) and NTP's part on a
 * copy of its state, at one counter reading, filling `txc` with the
 * read-back; then `commit` makes the change. Nothing moves before commit, so
 * the caller can write the read-back first and refuse a call whose timex
 * cannot take it (adjtimex(2)'s EFAULT) with no trace. A negated errno if a
 * check refuses.
 */
export function prepareAdjtimex(tk: Timekeeper, txc: Timex): PreparedAdjtimex | number {
  const bad = validateTimex(txc, tk.isAux);
  if (bad) return bad;
  const cycles = tk.cs.read();
  let delta: Timespec | undefined;
  if (txc.modes & ADJ_SETOFFSET) {
    delta = { sec: txc.time.sec, nsec: txc.modes & ADJ_NANO ? txc.time.usec : txc.time.usec * 1000n };
    const r = checkInjectOffset(tk, delta, cycles);
    if (r) return r;
  }
  // The clock as it will read at `cycles` once the offset is in (what Linux reads after injecting it).
  const base = tk.isAux ? tk.auxTime(cycles) : tk.realtime(cycles);
  const now = delta ? tsAdd(base, delta) : base;
  const ntp = Object.assign(Object.create(Ntp.prototype) as Ntp, tk.ntp);
  const tai = { value: tk.taiOffset };
  const result = ntp.adjtimex(txc, now, tai);
  const modes = txc.modes;
  return {
    result,
    commit(republish) {
      if (delta) {
        injectOffset(tk, delta, cycles);
        republish();
      }
      Object.assign(tk.ntp, ntp);
      if (tai.value !== tk.taiOffset) {
        tk.taiOffset = tai.value;
        republish();
      }
      // A new frequency takes effect at once, not at the next tick.
      if (modes & (ADJ_FREQUENCY | ADJ_TICK)) {
        tk.advance("freq");
        republish();
      }
    },
  };
}
