/**
 * Publication into the vDSO time page (kernel/time/vsyscall.c): the only code
 * that writes clock data, always between seq begin and seq end.
 */
import {
  CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
  CLOCK_TAI, CS_BASES, CS_HRES_COARSE, CS_RAW, MAX_AUX_CLOCKS, VDSO_BASE_AUX, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_time_data,
  vdso_timestamp, writer_state,
} from "../../assembly/layout.ts";
import type { DataStore } from "../datastore.ts";
import { writeBegin, writeBeginClock, writeEnd, writeEndClock } from "./seqlock.ts";
import { Timekeeper, type TkReadBase } from "./timekeeper.ts";
import { carryShifted, NSEC_PER_SEC, POW2 } from "../time.ts";

/** `hrtimer_resolution` with high-resolution timers. */
export const HRTIMER_RES = 1;

export const clockAt = (vd: number, cs: number) => vd + vdso_time_data.clock_data + cs * vdso_clock.SIZE;
export const auxClockAt = (vd: number, idx: number) => vd + vdso_time_data.aux_clock_data + idx * vdso_clock.SIZE;
const baseAt = (vc: number, clock: number) => vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;

/** A u64 field's value: a bigint, or a safe integer (written without making a bigint). */
type U64 = bigint | number;
const setU64 = (store: DataStore, addr: number, v: U64) => (typeof v === "number" ? store.setU64n(addr, v) : store.setU64(addr, v));

function setBase(store: DataStore, vc: number, clock: number, sec: U64, nsec: U64): void {
  const bt = baseAt(vc, clock);
  setU64(store, bt + vdso_timestamp.sec, sec);
  setU64(store, bt + vdso_timestamp.nsec, nsec);
}

/** `fill_clock_configuration`: the counter-to-time parameters of one clock (mult and shift already numbers). */
function fillClockConfiguration(store: DataStore, vc: number, cycleLast: U64, tkr: TkReadBase, maxCycles: bigint, mult: number, shift: number): void {
  setU64(store, vc + vdso_clock.cycle_last, cycleLast);
  store.setU64(vc + vdso_clock.max_cycles, maxCycles);
  store.setU64(vc + vdso_clock.mask, tkr.mask);
  store.setU32(vc + vdso_clock.mult, mult);
  store.setU32(vc + vdso_clock.shift, shift);
}

/** BigInt(tai_offset), converted again only when it changed. */
let taiKey = 0;
let taiBig = 0n;
const bigTai = (n: number) => (n === taiKey ? taiBig : (taiBig = BigInt((taiKey = n))));

/** What update_vsyscall writes, as [sec, nsec] per base plus the two cycle_lasts. */
interface CoreValues {
  rt: [U64, U64];
  rtCoarse: [U64, U64];
  monoCoarse: [U64, U64];
  mono: [U64, U64];
  boot: [U64, U64];
  raw: [U64, U64];
  tai: [U64, U64];
  cycleLast: U64;
  cycleLastRaw: U64;
}

/**
 * carryShifted(sec, a + b) in numbers for 0 <= a, b < ps, exact: the sum is
 * never formed where it would reach ps (it may pass 2^53). NaN otherwise.
 */
function addCarry(sec: number, a: number, b: number, ps: number): [number, number] {
  // sec is checked before the carry: an unsafe sum can round to -2^53, and +1 would make it look safe.
  if (!(Number.isSafeInteger(sec) && a >= 0 && a < ps && b >= 0 && b < ps)) return [NaN, NaN];
  const room = ps - b;
  return a >= room ? [sec + 1, a - room] : [sec, a + b];
}

const safe = (p: [U64, U64]) => Number.isSafeInteger(p[0]) && Number.isSafeInteger(p[1]);

/** The core's values in numbers from the timekeeper's cells, or undefined where one is no safe integer. */
function coreNumbers(tk: Timekeeper): CoreValues | undefined {
  const m = tk.mono;
  const p = POW2[m.shiftU32()];
  const ps = 1e9 * p;
  const w2m = tk.w2mTs();
  const toBoot = tk.bootTs.of(tk.offsBoot);
  const xs = tk.xs.n;
  const mono = addCarry(xs + w2m.secN, m.xn.n, w2m.nsecN * p, ps);
  const v: CoreValues = {
    rt: [xs, m.xn.n],
    rtCoarse: [xs, tk.cn.n],
    monoCoarse: addCarry(xs + w2m.secN, tk.cn.n, w2m.nsecN, 1e9),
    mono,
    boot: addCarry(mono[0] + toBoot.secN, mono[1], toBoot.nsecN * p, ps),
    raw: [tk.rs.n, tk.raw.xn.n],
    tai: [xs + tk.taiOffset, m.xn.n],
    cycleLast: m.cl.n,
    cycleLastRaw: tk.raw.cl.n,
  };
  const all = safe(v.rt) && safe(v.rtCoarse) && safe(v.monoCoarse) && safe(v.mono) && safe(v.boot) && safe(v.raw) && safe(v.tai);
  return all && Number.isSafeInteger(ps) && Number.isSafeInteger(v.cycleLast) && Number.isSafeInteger(v.cycleLastRaw) ? v : undefined;
}

/** The core's values in bigints. */
function coreBigints(tk: Timekeeper): CoreValues {
  const shift = tk.mono.shift;
  const w2m = tk.wallToMonotonic;
  // MONOTONIC = xtime + wall_to_monotonic, in shifted ns; BOOTTIME = MONOTONIC + monotonic_to_boot.
  const mono = carryShifted(tk.xtimeSec + w2m.sec, tk.mono.xtimeNsec + (w2m.nsec << shift), shift);
  const toBoot = tk.bootTs.of(tk.offsBoot);
  return {
    rt: [tk.xtimeSec, tk.mono.xtimeNsec],
    rtCoarse: [tk.xtimeSec, tk.coarseNsec],
    monoCoarse: carryShifted(tk.xtimeSec + w2m.sec, tk.coarseNsec + w2m.nsec, 0n),
    mono,
    boot: carryShifted(mono[0] + toBoot.sec, mono[1] + (toBoot.nsec << shift), shift),
    raw: [tk.rawSec, tk.raw.xtimeNsec],
    tai: [tk.xtimeSec + bigTai(tk.taiOffset), tk.mono.xtimeNsec],
    cycleLast: tk.mono.cycleLast,
    cycleLastRaw: tk.raw.cycleLast,
  };
}

/**
 * `update_vsyscall`: publish the core timekeeper. Every value is computed
 * first (in numbers where the cells hold safe integers), so nothing can throw
 * between write_begin and write_end (a seq left odd would stall every reader).
 */
export function updateVsyscall(store: DataStore, tk: Timekeeper): void {
  const vd = store.time;
  const vc = clockAt(vd, CS_HRES_COARSE);
  const vcRaw = clockAt(vd, CS_RAW);
  const mode = tk.cs.vdsoClockMode;
  const hres = mode !== vdso_clock_mode.NONE;
  // The resolution readers really get: 1 ns, or a shared counter's measured period.
  const res = tk.cs.resolutionNs?.() ?? HRTIMER_RES;
  const v = (Timekeeper.numbers && coreNumbers(tk)) || coreBigints(tk);
  const maxCycles = tk.cs.maxCycles;
  const mult = tk.mono.multU32();
  const multRaw = tk.raw.multU32();
  const shiftMono = tk.mono.shiftU32();
  const shiftRaw = tk.raw.shiftU32();

  writeBegin(store, vd);
  store.setI32(vc + vdso_clock.clock_mode, mode);
  store.setI32(vcRaw + vdso_clock.clock_mode, mode);
  // REALTIME is written even without a vDSO counter: time() needs it. It reads
  // the seconds with one 64-bit load and no seq, so they are one 64-bit store.
  const rtSec = v.rt[0];
  if (typeof rtSec === "number") store.storeU64AtomicN(baseAt(vc, CLOCK_REALTIME) + vdso_timestamp.sec, rtSec);
  else store.storeU64Atomic(baseAt(vc, CLOCK_REALTIME) + vdso_timestamp.sec, rtSec);
  setU64(store, baseAt(vc, CLOCK_REALTIME) + vdso_timestamp.nsec, v.rt[1]);
  setBase(store, vc, CLOCK_REALTIME_COARSE, ...v.rtCoarse);
  setBase(store, vc, CLOCK_MONOTONIC_COARSE, ...v.monoCoarse);
  store.storeU32Atomic(vd + vdso_time_data.hrtimer_res, res);
  if (hres) {
    fillClockConfiguration(store, vc, v.cycleLast, tk.mono, maxCycles, mult, shiftMono);
    fillClockConfiguration(store, vcRaw, v.cycleLastRaw, tk.raw, maxCycles, multRaw, shiftRaw);
    setBase(store, vc, CLOCK_MONOTONIC, ...v.mono);
    setBase(store, vc, CLOCK_BOOTTIME, ...v.boot);
    setBase(store, vcRaw, CLOCK_MONOTONIC_RAW, ...v.raw);
    setBase(store, vc, CLOCK_TAI, ...v.tai);
  }
  writeEnd(store, vd);
}

/** `update_vsyscall_tz`: the timezone, written without the seqlock as in Linux (each word read alone). */
export function updateVsyscallTz(store: DataStore, minuteswest: number, dsttime: number): void {
  store.storeU32Atomic(store.time + vdso_time_data.tz_minuteswest, minuteswest);
  store.storeU32Atomic(store.time + vdso_time_data.tz_dsttime, dsttime);
}

/** `vdso_time_update_aux`: publish aux clock `idx`; a disabled clock is mode NONE. Computed first, like update_vsyscall. */
export function vdsoTimeUpdateAux(store: DataStore, idx: number, tk: Timekeeper, valid: boolean): void {
  const vc = auxClockAt(store.time, idx);
  const mode = valid ? tk.cs.vdsoClockMode : vdso_clock_mode.NONE;
  const hres = mode !== vdso_clock_mode.NONE;
  const m = tk.mono;
  const mult = m.multU32();
  const shift = m.shiftU32();
  // Aux basetime keeps whole nanoseconds only: the shifted fraction is dropped.
  const toAux = tk.auxTs.of(tk.offsAux);
  // In numbers where every value is a safe integer (the tick's cells are), else in bigints.
  const p = POW2[shift];
  let secN = tk.xs.n + toAux.secN;
  const secSafe = Number.isSafeInteger(secN); // before the carry (see addCarry)
  let nsecN = Math.floor(m.xn.n / p) + toAux.nsecN; // x >> shift, exact: a division by 2^shift is
  if (nsecN >= 1e9 && Number.isSafeInteger(nsecN)) {
    const rest = nsecN % 1e9; // exact, as is the division of the difference
    secN += (nsecN - rest) / 1e9;
    nsecN = rest;
  }
  const baseN = nsecN * p;
  const numbers = Timekeeper.numbers && secSafe && Number.isSafeInteger(secN) && Number.isSafeInteger(baseN) && Number.isSafeInteger(m.cl.n) && nsecN < 1e9;
  let sec = 0n;
  let base = 0n;
  if (!numbers) {
    // (offs_aux is often 0: a BigInt sum allocates even then)
    sec = toAux.sec === 0n ? tk.xtimeSec : tk.xtimeSec + toAux.sec;
    let nsec = toAux.nsec === 0n ? m.xtimeNsec >> m.shift : (m.xtimeNsec >> m.shift) + toAux.nsec;
    if (nsec >= NSEC_PER_SEC) {
      sec += nsec / NSEC_PER_SEC;
      nsec %= NSEC_PER_SEC;
    }
    base = nsec << m.shift;
  }
  writeBeginClock(store, vc);
  store.setI32(vc + vdso_clock.clock_mode, mode);
  if (hres) {
    if (numbers) {
      store.setU64n(vc + vdso_clock.cycle_last, m.cl.n);
      store.setU64(vc + vdso_clock.max_cycles, tk.cs.maxCycles);
      store.setU64(vc + vdso_clock.mask, m.mask);
      store.setU32(vc + vdso_clock.mult, mult);
      store.setU32(vc + vdso_clock.shift, shift);
      const bt = baseAt(vc, VDSO_BASE_AUX);
      store.setU64n(bt + vdso_timestamp.sec, secN);
      store.setU64n(bt + vdso_timestamp.nsec, baseN);
    } else {
      fillClockConfiguration(store, vc, m.cycleLast, m, tk.cs.maxCycles, mult, shift);
      setBase(store, vc, VDSO_BASE_AUX, sec, base);
    }
  }
  writeEndClock(store, vc);
}

/** Offsets of a page's vdso_clock blocks: clock_data[0], [1], then the aux clocks. */
export const CLOCK_BLOCKS = Array.from({ length: CS_BASES + MAX_AUX_CLOCKS }, (_, i) =>
  i < CS_BASES ? vdso_time_data.clock_data + i * vdso_clock.SIZE : vdso_time_data.aux_clock_data + (i - CS_BASES) * vdso_clock.SIZE,
);

/**
 * Not in Linux (its writer cannot die inside an update): after every complete
 * publication, a copy of the time page into the arch page, block by block,
 * each copied block under its own seq (odd while copied), and the
 * publication count. A writer that dies inside an update of
 * the page leaves that block's copy whole, and one that dies inside the copy
 * leaves the page block whole: readers carry the newest whole block forward, a
 * new kernel adopts it. `from`: the page, or a repaired state; `skip`: blocks
 * of it that are not whole (left as they are).
 */
export function publishShadow(store: DataStore, from?: Uint8Array, skip?: ReadonlySet<number>): void {
  const shadow = store.arch + vdso_arch_data.shadow;
  // Each block from clock_mode on (seq is the copy's own); from the page, within the memory.
  const put = (off: number, end: number) =>
    from ? store.bytes(shadow + off, end - off).set(from.subarray(off, end)) : store.copy(shadow + off, store.time + off, end - off);
  for (const off of CLOCK_BLOCKS) {
    if (skip?.has(off)) continue;
    writeBeginClock(store, shadow + off);
    put(off + vdso_clock.clock_mode, off + vdso_clock.SIZE);
    writeEndClock(store, shadow + off); // only forward: a reader paused across a death and a repair still sees it moved
  }
  put(vdso_time_data.tz_minuteswest, vdso_time_data.SIZE); // tz, hrtimer_res: no seq in Linux either
  store.storeU64Atomic(store.arch + vdso_arch_data.publications, store.loadU64Atomic(store.arch + vdso_arch_data.publications) + 1n);
}

/**
 * Not in Linux: a closed store. Every clock of the page is left mid-write with
 * mode TIMENS, as a namespace page with no real page behind it, so every read
 * takes the fallback at once (no wait) and carries the shadow copy forward.
 */
export function closePage(store: DataStore): void {
  for (let i = 0; i < CS_BASES + MAX_AUX_CLOCKS; i++) {
    const vc = i < CS_BASES ? clockAt(store.time, i) : auxClockAt(store.time, i - CS_BASES);
    writeBeginClock(store, vc);
    store.setI32(vc + vdso_clock.clock_mode, vdso_clock_mode.TIMENS);
  }
  // Closed (adoptable at once) only now: an adopter never finds a close half done.
  store.storeU32Atomic(store.arch + vdso_arch_data.state, writer_state.CLOSED);
}
