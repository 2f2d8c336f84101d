/**
 * Taking over a store whose writer is gone (not in Linux, whose timekeeper
 * cannot die): tell a dead or closed writer from a live one by the arch
 * page's state and heartbeat, then start a kernel whose every clock continues
 * from the last consistent published state, carried to the new counter.
 */
import { CLOCK_AUX, CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_TAI, vdso_arch_data, vdso_clock_mode, writer_state } from "../../assembly/layout.ts";
import { archPage, DataStore } from "../datastore.ts";
import { lastConsistent, type PageState, writerInfo } from "../pageclock.ts";
import { NSEC_PER_SEC, nsToTs, tsToNs } from "../time.ts";
import { hostClocksource } from "./clocksource.ts";
import type { Timekeeper } from "./timekeeper.ts";
import { closePage, publishShadow } from "./vsyscall.ts";

/** A writer silent this long (no tick) is taken for dead by `adopt: true`. */
export const STALE_AFTER_MS = 1000;

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
 * Wins the store for one adopting kernel: the writer claim moves on by one
 * with a compare-and-swap from the value read before the store was judged
 * gone, so of two adopters (or an adopter racing a writer that came back)
 * one wins and the other throws. Then, in this order, the carry-forward is
 * frozen at its value now (readers never see it shrink), the state becomes
 * ADOPTING and the heartbeat fresh: an adopter that dies in its start is
 * itself taken for gone once silent.
 */
export function winStore(memory: WebAssembly.Memory, staleMs: number): void {
  const arch = archPage();
  const i32 = new Int32Array(memory.buffer);
  const u64 = new BigUint64Array(memory.buffer);
  const claim = (arch + vdso_arch_data.writer) >> 2;
  const token = Atomics.load(i32, claim);
  if (writerOf(memory, staleMs) !== "gone") throw new Error("wasm-vdso: this store's writer is live (or another kernel is adopting it)");
  if (Atomics.compareExchange(i32, claim, token, token + 1 || 1) !== token) throw new Error("wasm-vdso: another kernel took this store first");
  Atomics.store(u64, (arch + vdso_arch_data.gone_ns) >> 3, goneFor(memory, arch));
  Atomics.store(i32, (arch + vdso_arch_data.state) >> 2, writer_state.ADOPTING);
  Atomics.store(u64, (arch + vdso_arch_data.heartbeat_ns) >> 3, hostClocksource().read());
}

/** What holds the store in `memory`: nobody, a live writer, or one that is closed or silent for `staleMs`. */
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
  const rt = ns(st, CLOCK_REALTIME, at);
  const mono = ns(st, CLOCK_MONOTONIC, at);
  const boot = ns(st, CLOCK_BOOTTIME, at);
  const tai = ns(st, CLOCK_TAI, at);
  const raw = nsToTs(ns(st, CLOCK_MONOTONIC_RAW, at));
  core.setXtime(nsToTs(rt));
  core.wallToMonotonic = nsToTs(mono - rt);
  core.offsBoot = boot - mono;
  core.taiOffset = Number((tai - rt) / NSEC_PER_SEC);
  core.rawSec = raw.sec;
  core.raw.xtimeNsec = raw.nsec << core.raw.shift;
  aux.forEach((a, i) => {
    a.valid = st.mode(CLOCK_AUX + i) !== vdso_clock_mode.NONE;
    const c = a.tk.mono.cycleLast;
    if (a.valid) a.tk.offsAux = ns(st, CLOCK_AUX + i, c + lead) - tsToNs(a.tk.xtime(c));
  });
}

/**
 * Marks the store of a writer known to be gone (its worker ended) closed, as
 * its own `close()` would have: readers then carry the last consistent state
 * forward instead of reading time frozen at its last update. A writer that
 * died while copying its shadow left the page whole: the copy is finished
 * first. A store already closed is left alone.
 */
export function closeAbandoned(memory: WebAssembly.Memory): void {
  const arch = archPage();
  if (writerInfo(memory, arch).state === writer_state.CLOSED || Atomics.load(new Int32Array(memory.buffer), (arch + vdso_arch_data.writer) >> 2) === 0) return;
  const store = new DataStore(memory, undefined, "adopt");
  repairShadow(store);
  closePage(store);
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
