/**
 * WASI preview1 `poll_oneoff` on the kernel's clocks. Clock subscriptions
 * (relative, or SUBSCRIPTION_CLOCK_ABSTIME, on REALTIME and MONOTONIC) are
 * answered here, on the clocks the guest reads; subscriptions on fds go to
 * the runtime's own poll_oneoff (node:wasi's, browser_wasi_shim's).
 *
 * - Real time: the thread blocks until the kernel clock passes the deadline:
 *   Atomics.wait on a private SharedArrayBuffer where this thread may block,
 *   and a busy-wait where it may not (a browser's main thread, or no
 *   SharedArrayBuffer). Every wake re-reads the clock, so a sleep never ends
 *   before its deadline on the clock the guest reads; a precision under
 *   100 us spins the last 100 us (Atomics.wait wakes late by tens of us).
 * - Virtual time (a kernel on a VirtualClocksource): a sleep advances the
 *   counter to the deadline, ticking the kernel after each step: its last
 *   second in steps of one tick (4 ms), as the timer interrupt would, and
 *   before that in tickless idle steps of up to the clocksource's max idle
 *   time (~880 s for 1 GHz). No wall time passes and the guest wakes exactly
 *   at its deadline. The kernel still accounts every second (NTP's second
 *   overflow), ~7 us of CPU per virtual second: a day of sleep takes ~0.6 s.
 *   A deadline past KTIME_MAX ns never comes: it fires at once with `overflow`.
 *
 * Layouts (wasm32): subscription 48 bytes { userdata u64 @0, tag u8 @8,
 * clock { id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40 } or
 * fd_readwrite { fd u32 @16 } }; event 32 bytes { userdata u64 @0, error u16
 * @8, type u8 @10, fd_readwrite { nbytes u64 @16, flags u16 @24 } }.
 */
import { CLOCK_MONOTONIC, CLOCK_REALTIME, LOW_RES_NSEC, wasi_errno } from "../../assembly/layout.ts";
import { S64_MAX } from "../time.ts";
import type { GuestMemory } from "./guest-memory.ts";

const SUB_SIZE = 48;
const EVENT_SIZE = 32;
const EVENTTYPE_CLOCK = 0;
const EVENTTYPE_FD_READ = 1;
const EVENTTYPE_FD_WRITE = 2;
const ABSTIME = 1;
const WASI_REALTIME = 0;
const WASI_MONOTONIC = 1;
const ERRNO_FAULT: number = wasi_errno.FAULT;
const ERRNO_INVAL: number = wasi_errno.INVAL;
const ERRNO_NOSYS: number = wasi_errno.NOSYS;
const ERRNO_IO: number = wasi_errno.IO;
const ERRNO_OVERFLOW: number = wasi_errno.OVERFLOW;
/** `KTIME_MAX`: the last nanosecond a clock can read. */
const KTIME_MAX = S64_MAX;
/** A precision below this spins the end of the wait (Atomics.wait wakes tens of us late). */
const SPIN_TAIL_NS = 100_000n;
const TICK_NS = BigInt(LOW_RES_NSEC);
/** The end of a long virtual sleep that still goes a tick at a time. */
const IDLE_TAIL_NS = 1_000_000_000n;
/**
 * How long (wall time) a virtual-time poll lets the runtime look at fds. Its
 * timers are in ms, and uvwasi runs an expired timer before it polls the fds:
 * on a loaded machine 1 ms expired before the look (a pipe with data read as
 * a timeout, seen on Node 24 in CI), so the window is wide; an fd that is
 * ready returns at once.
 */
const LOOK_NS = 20_000_000n;

/** What the provider counts (for tests and curiosity). */
export interface PollStats {
  /** poll_oneoff calls. */
  polls: number;
  /** Atomics.wait calls made while sleeping. */
  waits: number;
  /** Sleeps that ended in (or were all) a busy-wait. */
  busyWaits: number;
  /** Virtual nanoseconds the counter was advanced by sleeps (virtual kernel). */
  virtualNs: bigint;
  /** Kernel ticks made by those advances. */
  ticks: number;
  /** Calls handed to the runtime's poll_oneoff (fd subscriptions). */
  runtimePolls: number;
}

/** A virtual kernel: its counter, its tick, and how long it may go without one. */
export interface VirtualTime {
  advanceNs(ns: bigint): void;
  tick(): void;
  /** The clocksource's `max_idle_ns`: the longest step between two ticks (a tickless idle's). */
  maxIdleNs: bigint;
}

export interface PollContext {
  gm: GuestMemory;
  /** The guest's clocks (Linux ids 0, 1): ns as BigInt, or a negative errno. */
  now(clock: number): bigint;
  /** The runtime's poll_oneoff, for fd subscriptions. */
  runtimePoll?: (inPtr: number, outPtr: number, n: number, neventsPtr: number) => number;
  /** Set for a virtual kernel: sleeps advance it. */
  virtual?: VirtualTime;
  /** Busy-wait even where Atomics.wait is allowed. */
  busyWait: boolean;
  /** After a real-time sleep (the provider ticks a kernel in this thread: coarse clocks catch up). */
  afterSleep?: () => void;
  stats: PollStats;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread), with its private word. */
function blocker(): Int32Array | undefined {
  if (typeof SharedArrayBuffer === "undefined") return undefined;
  try {
    const w = new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(w, 0, 1, 0); // "not-equal" where blocking is allowed; a TypeError where it is not
    return w;
  } catch {
    return undefined;
  }
}

interface ClockSub {
  index: number;
  userdata: bigint;
  /** The Linux clock the deadline is on; -1: fires at once with `error`. */
  clock: number;
  deadline: bigint;
  precision: bigint;
  error: number;
}

export function pollOneoff(ctx: PollContext): (inPtr: number, outPtr: number, nsubscriptions: number, neventsPtr: number) => number {
  const { gm, stats } = ctx;
  const word = ctx.busyWait ? undefined : blocker();

  /** Nanoseconds until the first of `subs` fires (<= 0: one has). */
  const remaining = (subs: ClockSub[]): bigint => {
    let min: bigint | undefined;
    for (const s of subs) {
      if (s.clock < 0 || s.error !== 0) return 0n;
      const t = ctx.now(s.clock);
      if (t < 0n) return 0n; // the clock read failed (a negated errno): fire now, never wait on it
      const r = s.deadline - t;
      if (min === undefined || r < min) min = r;
    }
    return min ?? 0n;
  };

  /** Sleeps until one of `subs` fires, on real time. */
  const sleep = (subs: ClockSub[]) => {
    const tail = subs.some((s) => s.precision < SPIN_TAIL_NS) ? SPIN_TAIL_NS : 0n;
    let spun = false;
    for (let r = remaining(subs); r > 0n; r = remaining(subs)) {
      if (word && r > tail) {
        stats.waits++;
        Atomics.wait(word, 0, 0, Number(r - tail) / 1e6);
      } else {
        spun = true;
      }
    }
    if (spun) stats.busyWaits++;
    ctx.afterSleep?.();
  };

  /**
   * Advances a virtual kernel until one of `subs` fires, a tick after each
   * step. The last second goes in steps of a tick, as the timer interrupt
   * would; before it the CPU is idle and tickless (NOHZ): steps of up to the
   * clocksource's max idle time. Each step moves the clock (it is read again
   * after it), so the loop ends.
   */
  const advance = (v: VirtualTime, subs: ClockSub[]) => {
    // A deadline past what a clock holds (KTIME_MAX ns) never comes, and in
    // virtual time nothing else would end the sleep: it fires at once, `overflow`.
    for (const s of subs) if (s.clock >= 0 && s.deadline > KTIME_MAX) s.error ||= ERRNO_OVERFLOW;
    let last = -1n;
    for (let r = remaining(subs), stalled = 0; r > 0n; r = remaining(subs)) {
      // A step may move the counter by no whole cycle (a slow counter carries the fraction), but not forever.
      stalled = last >= 0n && r >= last ? stalled + 1 : 0;
      if (stalled > 1e6) throw new Error("wasm-vdso: a virtual sleep does not converge (is the clock stopped?)");
      last = r;
      const idle = r - IDLE_TAIL_NS;
      const step = r < TICK_NS ? r : idle < TICK_NS ? TICK_NS : idle < v.maxIdleNs ? idle : v.maxIdleNs;
      v.advanceNs(step);
      v.tick();
      stats.virtualNs += step;
      stats.ticks++;
    }
  };

  return (inPtr, outPtr, n, neventsPtr) => {
    stats.polls++;
    inPtr >>>= 0;
    outPtr >>>= 0;
    n >>>= 0;
    neventsPtr >>>= 0;
    if (!gm.resolve()) return ERRNO_FAULT;
    if (n === 0) return ERRNO_INVAL; // as node:wasi (uvwasi) and browser_wasi_shim answer
    if (n > 0xffffffff / SUB_SIZE || !gm.readable(inPtr, n * SUB_SIZE) || !gm.writable(outPtr, n * EVENT_SIZE) || !gm.writable(neventsPtr, 4)) return ERRNO_FAULT;
    let d = gm.view;
    const clocks: ClockSub[] = [];
    const fds: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = inPtr + i * SUB_SIZE;
      const tag = d.getUint8(s + 8);
      if (tag === EVENTTYPE_FD_READ || tag === EVENTTYPE_FD_WRITE) {
        fds.push(i);
        continue;
      }
      if (tag !== EVENTTYPE_CLOCK) return ERRNO_INVAL;
      const id = d.getUint32(s + 16, true);
      const timeout = d.getBigUint64(s + 24, true);
      const precision = d.getBigUint64(s + 32, true);
      const flags = d.getUint16(s + 40, true);
      const sub: ClockSub = { index: i, userdata: d.getBigUint64(s, true), clock: -1, deadline: 0n, precision, error: 0 };
      if ((flags & ~ABSTIME) !== 0 || (id !== WASI_REALTIME && id !== WASI_MONOTONIC)) {
        sub.error = ERRNO_INVAL; // CPU-time clocks and unknown ids: an event with its error, at once
      } else if (flags & ABSTIME) {
        sub.clock = id === WASI_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        sub.deadline = timeout;
      } else {
        // Relative: measured on MONOTONIC whatever the clock, as Linux's hrtimers
        // do for a relative REALTIME timer (a step of the wall clock does not move it).
        sub.clock = CLOCK_MONOTONIC;
        const t = ctx.now(CLOCK_MONOTONIC);
        if (t < 0n) sub.error = ERRNO_IO; // the clock read failed: an event with that error, at once
        sub.deadline = t + timeout;
      }
      clocks.push(sub);
    }

    const fired = () =>
      clocks.filter((s) => {
        if (s.clock < 0 || s.error !== 0) return true;
        const t = ctx.now(s.clock);
        if (t < 0n) s.error = ERRNO_IO; // a failed read fires with an error instead of waiting forever
        return t < 0n || t >= s.deadline;
      });
    let fdEvents: Uint8Array[] = [];

    if (fds.length > 0) {
      if (!ctx.runtimePoll) return ERRNO_NOSYS;
      // Only fds: the runtime's own call, untouched.
      if (clocks.length === 0) {
        stats.runtimePolls++;
        return ctx.runtimePoll(inPtr, outPtr, n, neventsPtr);
      }
      // Mixed sets rewrite the subscriptions in place (runtimeFds): they must be writable, not only readable (not the store).
      if (!gm.writable(inPtr, n * SUB_SIZE)) return ERRNO_FAULT;
      // Mixed: the runtime polls the fds with a MONOTONIC timeout no later than
      // our first deadline; then our clocks are checked. In virtual time the fds
      // are looked at once (the runtime may wait up to LOOK_NS of wall time: a
      // zero timeout lets uvwasi fire its timer before it polls the fds), then
      // the virtual clock advances to the first deadline.
      for (;;) {
        const r = ctx.virtual ? LOOK_NS : remaining(clocks);
        const got = runtimeFds(ctx, inPtr, outPtr, n, neventsPtr, fds, r > 0n ? r : 0n);
        if (typeof got === "number") return got;
        fdEvents = got;
        if (fdEvents.length > 0 || remaining(clocks) <= 0n) break;
        if (ctx.virtual) {
          advance(ctx.virtual, clocks);
          break;
        }
      }
    } else if (ctx.virtual) {
      advance(ctx.virtual, clocks);
    } else {
      sleep(clocks);
    }

    const clockEvents = fired();
    if (!gm.resolve()) return ERRNO_FAULT;
    d = gm.view;
    let k = 0;
    for (const e of fdEvents) new Uint8Array(d.buffer, d.byteOffset + outPtr + EVENT_SIZE * k++, EVENT_SIZE).set(e);
    for (const s of clockEvents) {
      const o = outPtr + EVENT_SIZE * k++;
      new Uint8Array(d.buffer, d.byteOffset + o, EVENT_SIZE).fill(0);
      d.setBigUint64(o, s.userdata, true);
      d.setUint16(o + 8, s.error, true);
      d.setUint8(o + 10, EVENTTYPE_CLOCK);
    }
    d.setUint32(neventsPtr, k, true);
    return 0;
  };
}

/**
 * The runtime's poll_oneoff on the fd subscriptions alone plus one relative
 * MONOTONIC timeout: the guest's subscription array is rewritten in place
 * (fds first, then the timeout; there is room, since at least one clock
 * subscription is dropped) and restored after. The runtime's own clock event
 * is dropped. Returns the fd events (32 bytes each), or the runtime's errno.
 */
function runtimeFds(ctx: PollContext, inPtr: number, outPtr: number, n: number, neventsPtr: number, fds: number[], timeoutNs: bigint): Uint8Array[] | number {
  const { gm } = ctx;
  let d = gm.view;
  const saved = new Uint8Array(d.buffer, d.byteOffset + inPtr, n * SUB_SIZE).slice();
  const subs = new Uint8Array(d.buffer, d.byteOffset + inPtr, n * SUB_SIZE);
  fds.forEach((i, j) => subs.set(saved.subarray(i * SUB_SIZE, (i + 1) * SUB_SIZE), j * SUB_SIZE));
  const t = inPtr + fds.length * SUB_SIZE;
  subs.fill(0, fds.length * SUB_SIZE, (fds.length + 1) * SUB_SIZE);
  d.setUint8(t + 8, EVENTTYPE_CLOCK);
  d.setUint32(t + 16, WASI_MONOTONIC, true);
  d.setBigUint64(t + 24, timeoutNs, true);
  let err: number;
  ctx.stats.runtimePolls++;
  try {
    err = ctx.runtimePoll!(inPtr, outPtr, fds.length + 1, neventsPtr);
  } finally {
    if (gm.resolve()) new Uint8Array(gm.view.buffer, gm.view.byteOffset + inPtr, n * SUB_SIZE).set(saved);
  }
  if (err !== 0) return err;
  if (!gm.resolve()) return ERRNO_FAULT;
  d = gm.view;
  const got = Math.min(d.getUint32(neventsPtr, true), fds.length + 1);
  const events: Uint8Array[] = [];
  for (let i = 0; i < got; i++) {
    const o = outPtr + i * EVENT_SIZE;
    if (d.getUint8(o + 10) !== EVENTTYPE_CLOCK) events.push(new Uint8Array(d.buffer, d.byteOffset + o, EVENT_SIZE).slice());
  }
  return events;
}
