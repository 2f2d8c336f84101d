/**
 * A time page read in TypeScript, off the hot path: the last consistent state
 * of a store (the page itself, or the shadow copy the writer keeps in the arch
 * page when the page is stuck or closed), and any clock of it at a given
 * counter, with the vDSO's own arithmetic in BigInt. Used where no wasm runs
 * or none should: a kernel adopting a store, and the fallback that carries
 * time forward when the writer has failed.
 */
import {
  CLOCK_AUX, CLOCK_AUX_LAST, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
  CLOCK_MONOTONIC_RAW, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE, CLOCK_TAI, CS_HRES_COARSE, CS_RAW,
  VDSO_BASE_AUX, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_time_data, vdso_timestamp, type writer_state,
} from "../assembly/layout.ts";
import { CLOCK_BLOCKS } from "./kernel/vsyscall.ts";
import { NSEC_PER_SEC, S64_MAX, U64_MAX } from "./time.ts";

const BIT62 = 1n << 62n;

/** A consistent copy of a time page (`vdso_time_data.SIZE` bytes), read as the vDSO reads it. */
export class PageState {
  private readonly d: DataView;
  /**
   * `bad`: offsets of clock blocks with no consistent copy (their clocks read
   * null); `fromShadow`: blocks taken from the shadow (the page's was not whole).
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly bad: ReadonlySet<number> = new Set<number>(),
    readonly fromShadow: ReadonlySet<number> = new Set<number>(),
  ) {
    this.d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** clock_data[] or aux_clock_data[] offset of `clock` in the page, or -1 for a clock the page does not hold. */
  static clockOffset(clock: number): number {
    if (clock === CLOCK_REALTIME_ALARM) clock = CLOCK_REALTIME;
    if (clock === CLOCK_BOOTTIME_ALARM) clock = CLOCK_BOOTTIME;
    if (clock >= CLOCK_AUX && clock <= CLOCK_AUX_LAST) return vdso_time_data.aux_clock_data + (clock - CLOCK_AUX) * vdso_clock.SIZE;
    if (clock === CLOCK_MONOTONIC_RAW) return vdso_time_data.clock_data + CS_RAW * vdso_clock.SIZE;
    if ([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE].includes(clock)) {
      return vdso_time_data.clock_data + CS_HRES_COARSE * vdso_clock.SIZE;
    }
    return -1;
  }

  /** clock_mode of `clock`'s block (NONE where the block has no consistent copy). */
  mode(clock: number): number {
    const vc = PageState.clockOffset(clock);
    return this.bad.has(vc) ? vdso_clock_mode.NONE : this.d.getInt32(vc + vdso_clock.clock_mode, true);
  }

  get tz(): { minuteswest: number; dsttime: number } {
    return { minuteswest: this.d.getInt32(vdso_time_data.tz_minuteswest, true), dsttime: this.d.getInt32(vdso_time_data.tz_dsttime, true) };
  }

  get hrtimerRes(): number {
    return this.d.getUint32(vdso_time_data.hrtimer_res, true);
  }

  /**
   * `clock` in ns at counter `cycles` (`do_hres` / `do_coarse` / `do_aux`
   * arithmetic, exact), or null where the vDSO would take the syscall (a clock
   * the page does not hold, mode NONE). Alarm clocks read their base clock.
   */
  ns(clock: number, cycles: bigint): bigint | null {
    if (clock === CLOCK_REALTIME_ALARM) clock = CLOCK_REALTIME;
    if (clock === CLOCK_BOOTTIME_ALARM) clock = CLOCK_BOOTTIME;
    const vc = PageState.clockOffset(clock);
    if (vc < 0 || this.bad.has(vc)) return null;
    const d = this.d;
    const idx = clock >= CLOCK_AUX ? VDSO_BASE_AUX : clock;
    const bt = vc + vdso_clock.basetime + idx * vdso_timestamp.SIZE;
    // Signed: MONOTONIC's base can sit just below 0 (NTP steered in the first
    // second after boot: sec -1), which the vDSO's u64 sum wraps back.
    const sec = d.getBigInt64(bt + vdso_timestamp.sec, true);
    const base = d.getBigUint64(bt + vdso_timestamp.nsec, true);
    if (clock === CLOCK_REALTIME_COARSE || clock === CLOCK_MONOTONIC_COARSE) return sec * NSEC_PER_SEC + base;
    if (d.getInt32(vc + vdso_clock.clock_mode, true) === vdso_clock_mode.NONE) return null;
    const shift = BigInt(d.getUint32(vc + vdso_clock.shift, true));
    const mult = BigInt(d.getUint32(vc + vdso_clock.mult, true));
    const delta = (cycles - d.getBigUint64(vc + vdso_clock.cycle_last, true)) & U64_MAX;
    let ns: bigint;
    if (delta > d.getBigUint64(vc + vdso_clock.max_cycles, true)) {
      ns = delta & BIT62 ? base >> shift : ((delta & S64_MAX) * mult + base) >> shift;
    } else {
      ns = ((delta * mult + base) & U64_MAX) >> shift;
    }
    return sec * NSEC_PER_SEC + ns;
  }
}

/**
 * A copy of the vdso_clock block at `at` if it is whole (seq even and unchanged
 * across the copy, not closed), else null. Each word is copied with
 * Atomics.load, as the wasm reader loads its fields (assembly/seqlock.ts): a
 * plain copy could be satisfied after the second seq load on ARM64.
 */
function wholeBlock(memory: WebAssembly.Memory, at: number): Uint8Array | null {
  const u32 = new Uint32Array(memory.buffer);
  const seqAt = (at + vdso_clock.seq) >> 2;
  const seq = Atomics.load(u32, seqAt);
  if (seq & 1 || Atomics.load(u32, (at + vdso_clock.clock_mode) >> 2) === vdso_clock_mode.TIMENS) return null;
  const words = new Uint32Array(vdso_clock.SIZE >> 2);
  for (let i = 0; i < words.length; i++) words[i] = Atomics.load(u32, seqAt + i);
  return Atomics.load(u32, seqAt) === seq ? new Uint8Array(words.buffer) : null;
}

/** The store's writer as the arch page tells it. */
export interface WriterInfo {
  state: writer_state;
  publications: bigint;
  /** The writer's host clock at its last tick (ns). */
  heartbeatNs: bigint;
}

export function writerInfo(memory: WebAssembly.Memory, arch: number): WriterInfo {
  const u64 = new BigUint64Array(memory.buffer);
  return {
    state: Atomics.load(new Int32Array(memory.buffer), (arch + vdso_arch_data.state) >> 2),
    publications: Atomics.load(u64, (arch + vdso_arch_data.publications) >> 3),
    heartbeatNs: Atomics.load(u64, (arch + vdso_arch_data.heartbeat_ns) >> 3),
  };
}

/**
 * The last consistent state of the store whose real time page is `time`, clock
 * block by clock block: the page's own block where it is whole (its seq even
 * and unchanged across the copy, not closed), else the writer's shadow copy's
 * (made after every complete publication; a page block is never older than
 * it). A block whole in neither (the writer died inside the shadow copy, and
 * later inside that block) is left out: its clocks answer null. Null if no
 * writer has published a shadow (a replayed snapshot, an empty store).
 */
export function lastConsistent(memory: WebAssembly.Memory, time: number, arch: number): PageState | null {
  if (writerInfo(memory, arch).publications === 0n) return null;
  const shadow = arch + vdso_arch_data.shadow;
  const out = new Uint8Array(memory.buffer, time, vdso_time_data.SIZE).slice(); // tz and hrtimer_res: no seq in Linux either
  const bad = new Set<number>();
  const fromShadow = new Set<number>();
  for (const off of CLOCK_BLOCKS) {
    // The writer never holds a block's page copy and its shadow copy at once,
    // but it can move from one to the other between our two looks: look again.
    let block: Uint8Array | null = null;
    for (let tries = 0; tries < 1000 && !block; tries++) {
      block = wholeBlock(memory, time + off);
      if (!block && (block = wholeBlock(memory, shadow + off))) fromShadow.add(off);
    }
    if (block) out.set(block, off);
    else bad.add(off);
  }
  return new PageState(out, bad, fromShadow);
}
