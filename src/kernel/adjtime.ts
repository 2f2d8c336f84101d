/**
 * `do_adjtimex` and `timekeeping_inject_offset` (kernel/time/timekeeping.c)
 * on one timekeeper, the core or an aux clock: every check first, then the
 * change, then NTP's part (ntp.ts).
 */
import { ADJ_FREQUENCY, ADJ_NANO, ADJ_SETOFFSET, ADJ_TICK, type Timex } from "./timex.ts";
import { validateTimex } from "./ntp.ts";
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

/**
 * `do_adjtimex` on a timekeeper, for a timex already copied by `timex()`:
 * 0..5 (TIME_OK...) or a negated errno; fills `txc`. Everything that can
 * refuse (validation, the offset's range) is checked before anything moves.
 */
export function doAdjtimex(tk: Timekeeper, txc: Timex, republish: () => void): number {
  const bad = validateTimex(txc, tk.isAux);
  if (bad) return bad;
  if (txc.modes & ADJ_SETOFFSET) {
    const delta = { sec: txc.time.sec, nsec: txc.modes & ADJ_NANO ? txc.time.usec : txc.time.usec * 1000n };
    const now = tk.cs.read();
    const r = checkInjectOffset(tk, delta, now);
    if (r) return r;
    injectOffset(tk, delta, now);
    republish();
  }
  const now = tk.isAux ? tk.auxTime() : tk.realtime();
  const tai = { value: tk.taiOffset };
  const result = tk.ntp.adjtimex(txc, now, tai);
  if (tai.value !== tk.taiOffset) {
    tk.taiOffset = tai.value;
    republish();
  }
  // A new frequency takes effect at once, not at the next tick.
  if (txc.modes & (ADJ_FREQUENCY | ADJ_TICK)) {
    tk.advance("freq");
    republish();
  }
  return result;
}

/** The `copy_to_user` of a successful adjtimex: the read-back into the caller's object. */
export function writeTimex(to: object, from: Timex): void {
  Object.assign(to, from, { time: { ...from.time } });
}
