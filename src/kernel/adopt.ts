/**
 * Taking over a store whose writer is gone (not in Linux, whose timekeeper
 * cannot die): tell a dead or closed writer from a live one by the arch
 * page's state and heartbeat, win the claim (a fencing token: the old writer
 * never writes again), then start a kernel whose every clock continues from
 * the last consistent published state, carried to the new counter.
 */
import {
  CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_TAI, STORE_START, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_pages, writer_state,
} from "../../assembly/layout.ts";
import { archPage, DataStore } from "../datastore.ts";
import { lastConsistent, type PageState, writerInfo } from "../pageclock.ts";
import { NSEC_PER_SEC, nsToTs, tsToNs } from "../time.ts";
import { hostClocksource } from "./clocksource.ts";
import type { Timekeeper } from "./timekeeper.ts";
import { CLOCK_BLOCKS, closePage, publishShadow } from "./vsyscall.ts";

/** A live writer stores its host clock this often, ticking or not (Heartbeat). */
export const HEARTBEAT_MS = 100;
/**
 * The least silence `adoptAfterMs` may ask for: five heartbeats. A live
 * writer's timer can be late (a busy event loop, a GC pause), not by five
 * periods; a writer whose thread stalls longer loses its store.
 */
export const MIN_SILENCE_MS = 5 * HEARTBEAT_MS;
/** A writer silent this long (no heartbeat) is taken for dead by `adopt: true` (the default adoptAfterMs). */
export const STALE_AFTER_MS = 1000;
/**
 * How long an adopter waits for a block the old writer is inside to finish:
 * a live writer is inside one for microseconds (a thread descheduled right
 * there, for longer, is the rare miss); a dead one never finishes, and every
 * adoption of a store whose writer died mid-write pays this.
 */
export const SETTLE_MS = 5;

/**
 * A writer's heartbeat, from the moment it holds a claim: one store of the
 * host's clock every HEARTBEAT_MS, on a timer that never keeps a process
 * alive. It stops once the claim moved on (and says so), or once the store
 * cannot be written: a writer that cannot heartbeat is taken for gone.
 */
export class Heartbeat {
  /** Called once when the beat finds the store adopted by another kernel. */
  onFenced?: () => void;
  /** Called after each timed beat (the kernel's resync). */
  onBeat?: () => void;
  private timer?: ReturnType<typeof setInterval>;
  private readonly host = hostClocksource();

  constructor(private readonly store: DataStore) {}

  start(): void {
    this.beat();
    this.timer = setInterval(() => this.due(), HEARTBEAT_MS);
    (this.timer as { unref?: () => void }).unref?.(); // Node: a heartbeat never keeps the process alive
  }

  /** One beat (the caller checked the claim). */
  beat(): void {
    this.store.storeU64Atomic(this.store.arch + vdso_arch_data.heartbeat_ns, this.host.read());
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private due(): void {
    if (this.store.fenced()) {
      this.stop();
      this.onFenced?.();
      return;
    }
    try {
      this.beat();
      this.onBeat?.();
    } catch {
      this.stop();
      if (this.store.fenced()) this.onFenced?.();
    }
  }
}

/**
 * How long (ns of the host's clock) a virtual store's writer has been gone:
 * 0 while it runs (an idle virtual kernel is not gone: its time stands still
 * by design), else the time since its last tick once it closed (or the
 * supervisor closed the store for it), frozen while a new kernel adopts it.
 * A virtual counter moves only when its owner moves it: once the owner is
 * gone, time is carried forward with the host's clock instead of standing
 * still, and the adopting kernel continues from exactly there.
 */
export function goneFor(memory: WebAssembly.Memory, arch: number, hostNow = hostClocksource().read()): bigint {
  const w = writerInfo(memory, arch);
  if (w.state === writer_state.ADOPTING) return Atomics.load(new BigUint64Array(memory.buffer), (arch + vdso_arch_data.gone_ns) >> 3);
  if (w.state !== writer_state.CLOSED) return 0n;
  const silent = hostNow - w.heartbeatNs;
  return silent > 0n ? silent : 0n;
}

/**
 * Wins the store for one adopting kernel and returns its claim (the fencing
 * token): the claim moves on by one with a compare-and-swap from the value
 * read before the store was judged gone, and the old writer, whose token it
 * no longer is, never writes again. What made the store gone is taken with a
 * compare-and-swap first, so that of two adopters exactly one gets that far:
 * a close is taken once (state CLOSED -> ADOPTING), a silence once (the
 * heartbeat read -> now; it fails too if the writer beat meanwhile: it came
 * back). Every winner's heartbeat is fresh before its claim moves: an adopter
 * that reads the new claim finds a live writer. The carry-forward is frozen
 * (readers of an adopting store never see it shrink) before the state says
 * ADOPTING; an adopter that dies in its start is taken for gone once silent.
 */
export function winStore(memory: WebAssembly.Memory, staleMs: number): number {
  const arch = archPage();
  const u32 = new Uint32Array(memory.buffer);
  const i32 = new Int32Array(memory.buffer);
  const u64 = new BigUint64Array(memory.buffer);
  const claimAt = (arch + vdso_arch_data.writer) >> 2;
  const stateAt = (arch + vdso_arch_data.state) >> 2;
  const beatAt = (arch + vdso_arch_data.heartbeat_ns) >> 3;
  const goneAt = (arch + vdso_arch_data.gone_ns) >> 3;
  const token = Atomics.load(u32, claimAt);
  const state = Atomics.load(i32, stateAt);
  const beat = Atomics.load(u64, beatAt);
  const goneBefore = Atomics.load(u64, goneAt);
  const now = hostClocksource().read();
  const closed = state === writer_state.CLOSED;
  if (token === 0 || (!closed && now - beat <= BigInt(Math.round(staleMs * 1e6)))) {
    throw new Error("wasm-vdso: this store's writer is live (or another kernel is adopting it)");
  }
  const gone = goneFor(memory, arch, now);
  const next = (token + 1) >>> 0 || 1;
  const first = () => new Error("wasm-vdso: another kernel took this store first");
  if (closed) {
    // Written once, by whichever racing adopter comes first (each value is as good): a loser must not change it under the winner's readers.
    Atomics.compareExchange(u64, goneAt, goneBefore, gone);
    if (Atomics.compareExchange(i32, stateAt, state, writer_state.ADOPTING) !== state) throw first();
    Atomics.store(u64, beatAt, now);
  } else {
    if (Atomics.compareExchange(u64, beatAt, beat, now) !== beat) throw new Error("wasm-vdso: this store's writer came back, or another kernel took it first");
    Atomics.store(u64, goneAt, gone);
    if (Atomics.compareExchange(i32, stateAt, state, writer_state.ADOPTING) !== state) throw first(); // (or its writer closed it meanwhile)
  }
  if (Atomics.compareExchange(u32, claimAt, token, next) !== token) throw first();
  return next;
}

/** Whether a clock block of the page or the shadow is mid-write (seq odd, not closed). */
export function busyBlock(memory: WebAssembly.Memory): boolean {
  const arch = archPage();
  const time = STORE_START + vdso_pages.VDSO_TIME_PAGE_OFFSET * vdso_pages.PAGE_SIZE;
  const u32 = new Uint32Array(memory.buffer);
  const busy = (at: number) => Atomics.load(u32, (at + vdso_clock.seq) >> 2) & 1 && Atomics.load(u32, (at + vdso_clock.clock_mode) >> 2) !== vdso_clock_mode.TIMENS;
  return CLOCK_BLOCKS.some((off) => busy(time + off) || busy(arch + vdso_arch_data.shadow + off));
}

/**
 * After winning: waits (at most SETTLE_MS) until no clock block of the page or
 * the shadow is mid-write, so the old writer's last block is settled before
 * anything is written over it. Why that is enough: the seq stores and the
 * claim are atomics, sequentially consistent, one order every thread agrees
 * on. The old writer's block write is: odd seq store S, claim load L1
 * (writeBeginClock), fields, claim load L2, even seq store E (writeEndClock;
 * fenced at L2 it stores odd instead and stops). Ours: claim CAS C, then this
 * seq load of each block, then our writes. If L1 came after C, the writer
 * stopped before any field. If L2 came after C, it never stores E: its fields
 * are never taken (the block is repaired from the shadow, as a dead writer's
 * is). If L2 came before C, so did S, and our load (after C) sees S or E: we
 * wait for E, and its next L1 comes after C and stops it. Either way its
 * odd seq is moved past by our own begin and end, or, if it lands after our
 * publication of that block (the writer was descheduled right there), at our
 * next heartbeat (Kernel: every clock published again). A writer that died
 * (or stalls) inside a block never stores E: after SETTLE_MS we go on. One
 * that stalls inside a block past the adoption and SETTLE_MS can, when it
 * resumes, mix its last fields into ours for as long as it takes to store
 * them; its L2 then leaves the block odd. A closed block (odd, mode TIMENS)
 * is settled. Writes outside a seq window (the heartbeat, NTP's frequencies,
 * tz) are made right after a claim check: a writer descheduled between the
 * two can land one late store of its last value there.
 */
export async function settle(memory: WebAssembly.Memory): Promise<boolean> {
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    if (!busyBlock(memory)) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** What holds the store in `memory`: nobody, a live writer (it heartbeats), or one that is closed or silent for `staleMs`. */
export function writerOf(memory: WebAssembly.Memory, staleMs: number): "none" | "live" | "gone" {
  const arch = archPage();
  if (Atomics.load(new Int32Array(memory.buffer), (arch + vdso_arch_data.writer) >> 2) === 0) return "none";
  const w = writerInfo(memory, arch);
  if (w.state === writer_state.CLOSED) return "gone";
  const silentNs = hostClocksource().read() - w.heartbeatNs;
  return silentNs > BigInt(Math.round(staleMs * 1e6)) ? "gone" : "live";
}

/** The last consistent state of an adopted store (there is one: its writer published). */
export function priorState(memory: WebAssembly.Memory, time: number, arch: number): PageState {
  const st = lastConsistent(memory, time, arch);
  if (!st) throw new Error("wasm-vdso: the store to adopt has no published state");
  return st;
}

const ns = (st: PageState, clock: number, cycles: bigint) => {
  const v = st.ns(clock, cycles);
  if (v === null) throw new Error(`wasm-vdso: the adopted store has no clock ${clock}`);
  return v;
};

/**
 * Sets `core` and the aux timekeepers so that each clock, at its
 * timekeeper's own accumulation point (`cycle_last`), reads what the prior
 * state says it reads at that counter plus `lead`: 0 where the new counter
 * is the old one, or how far the new counter lags the host's clock the old
 * state was carried forward with (a shared ticker's word), so no reader sees
 * an earlier time than it already did. Aux clocks enabled there are enabled here.
 */
export function continueFrom(st: PageState, core: Timekeeper, aux: { tk: Timekeeper; valid: boolean }[], lead: bigint, freqs: bigint[] = []): void {
  // NTP's frequency of each timekeeper as the old writer last set it (adjtimex's state is not in the page).
  [core, ...aux.map((a) => a.tk)].forEach((tk, i) => {
    if (freqs[i]) {
      tk.ntp.timeFreq = freqs[i];
      tk.ntp.updateFrequency();
      tk.advance("freq");
    }
  });
  const at = core.mono.cycleLast + lead;
  // 1 ns on top of each clock's time at `at`: the page's time there is
  // truncated to whole ns (its sub-ns fraction dropped), so without it a
  // reader that read the old state just after `at` could read 1 ns less from
  // ours (mult is not 2^shift once NTP steers); 1 ns also covers the old and
  // new mult differing by a few units until the first publication.
  const rt = ns(st, CLOCK_REALTIME, at) + 1n;
  const mono = ns(st, CLOCK_MONOTONIC, at) + 1n;
  const boot = ns(st, CLOCK_BOOTTIME, at) + 1n;
  const tai = ns(st, CLOCK_TAI, at) + 1n;
  const raw = nsToTs(ns(st, CLOCK_MONOTONIC_RAW, at) + 1n);
  core.setXtime(nsToTs(rt));
  core.wallToMonotonic = nsToTs(mono - rt);
  core.offsBoot = boot - mono;
  core.taiOffset = Number((tai - rt) / NSEC_PER_SEC);
  core.rawSec = raw.sec;
  core.raw.xtimeNsec = raw.nsec << core.raw.shift;
  aux.forEach((a, i) => {
    a.valid = st.mode(CLOCK_AUX + i) !== vdso_clock_mode.NONE;
    const c = a.tk.mono.cycleLast;
    if (a.valid) a.tk.offsAux = ns(st, CLOCK_AUX + i, c + lead) + 1n - tsToNs(a.tk.xtime(c)); // + 1 ns: as above
  });
}

/**
 * Marks the store of a writer known to be gone (its worker ended) closed, as
 * its own `close()` would have: readers then carry the last consistent state
 * forward instead of reading time frozen at its last update. A writer that
 * died while copying its shadow left the page whole: the copy is finished
 * first. A store already closed is left alone, and so is one whose claim is
 * no longer `token` (the gone writer's; default: whoever holds it now): it
 * was adopted meanwhile, and every write here is fenced like a writer's.
 */
export function closeAbandoned(memory: WebAssembly.Memory, token?: number): void {
  const arch = archPage();
  const claim = Atomics.load(new Uint32Array(memory.buffer), (arch + vdso_arch_data.writer) >> 2);
  if (writerInfo(memory, arch).state === writer_state.CLOSED || claim === 0 || (token !== undefined && claim !== token)) return;
  const store = new DataStore(memory, undefined, "adopt", claim);
  try {
    // A kernel that failed in its start: readers carried its store forward by the frozen gone_ns; keep doing so once closed.
    if (writerInfo(memory, arch).state === writer_state.ADOPTING) {
      store.storeU64Atomic(arch + vdso_arch_data.heartbeat_ns, hostClocksource().read() - store.loadU64Atomic(arch + vdso_arch_data.gone_ns));
    }
    repairShadow(store);
    closePage(store);
  } catch (e) {
    if (!store.fenced()) throw e; // adopted while we closed it: the adopter's now
  }
}

/**
 * A create that failed after its claim was won leaves no trace: a new store
 * is zeroed again and its claim given back (another create can have it); an
 * adopted one is left closed, as its own close() would, for the next
 * adopter. A store adopted by someone else meanwhile is not touched.
 */
export function releaseClaim(store: DataStore, adopted: boolean): void {
  if (store.fenced()) return;
  if (adopted) return closeAbandoned(store.memory, store.token);
  const claim = store.arch + vdso_arch_data.writer;
  const end = store.base + vdso_pages.VDSO_NR_PAGES * vdso_pages.PAGE_SIZE;
  new Uint8Array(store.memory.buffer, store.base, claim - store.base).fill(0);
  new Uint8Array(store.memory.buffer, claim + 4, end - claim - 4).fill(0);
  Atomics.compareExchange(new Uint32Array(store.memory.buffer), claim >> 2, store.token, 0);
}

/**
 * Before anything else is written to a store whose writer died: the shadow
 * becomes the last consistent state, block by block (the page's whole blocks
 * are newer than the shadow; the shadow itself may be torn), so a writer that
 * dies next leaves a whole copy behind.
 */
export function repairShadow(store: DataStore): void {
  const st = lastConsistent(store.memory, store.time, store.arch);
  // Only the page's whole blocks are copied: a block taken from the shadow is
  // already there, and rewriting it would open a window with no whole copy.
  if (st) publishShadow(store, st.bytes, new Set([...st.bad, ...st.fromShadow]));
}

const MODE_NAMES: Record<number, string> = {
  [vdso_clock_mode.TSC]: "host-call",
  [vdso_clock_mode.SHARED_COUNTER]: "shared",
  [vdso_clock_mode.VIRTUAL]: "virtual",
};

/**
 * Refuses, before anything is written, a kernel whose counter is not the kind
 * the store's old writer published with: the state is carried to the new
 * counter at one instant, and two kinds of counter drift apart from there (a
 * reader could step back, or two readers disagree by milliseconds).
 */
export function checkSameCounter(memory: WebAssembly.Memory, mode: number): void {
  const st = lastConsistent(memory, STORE_START + vdso_pages.VDSO_TIME_PAGE_OFFSET * vdso_pages.PAGE_SIZE, archPage());
  const old = st?.mode(CLOCK_MONOTONIC);
  if (old === undefined || old === vdso_clock_mode.NONE || old === mode) return;
  const name = (m: number) => MODE_NAMES[m] ?? `mode ${m}`;
  throw new Error(`wasm-vdso: this store was written with a ${name(old)} counter; adopt it with the same kind (counter), not ${name(mode)}`);
}
