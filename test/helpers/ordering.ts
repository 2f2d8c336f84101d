/**
 * The memory-order check over a compiled module (issue 21). Binaryen's
 * `instrument-memory` pass routes every load's address, atomic loads too,
 * through an import `env.load_ptr(id, bytes, offset, ptr)`; the pass's text
 * says which load each id is. Running the instrumented module on a real store
 * then lists its loads in program order: address, width, atomic or plain.
 *
 * The rule (the read side of assembly/seqlock.ts): a load of a seq word that
 * finds it even (Hyper-V's sequence: any value) opens a window, the next load
 * of that word closes it; every load in between that touches the block the
 * word guards (its vdso_clock, the pvclock or Hyper-V page) is atomic, and so
 * are the seq loads. Loads are matched by the bytes they cover: an 8-byte
 * atomic load covering seq and the word beside it (seq and clock_mode in one)
 * is a load of seq, whole and atomic, and of the other word (read at the
 * window's opening, so not a data load inside it); one covering only part of
 * seq is a violation. An atomic load is ordered before every later load (`LDAR`
 * on ARM64), so no data load passes the re-read; a plain one (`LDR`) may.
 * Words read alone (rng is_ready and generation, the counter word, the
 * seconds time() returns) must be loaded whole and atomically. An
 * `atomic.fence` would order plain loads too, but none survives
 * AssemblyScript's build: a module with one is refused here rather than
 * judged by a rule that ignores it.
 */
import binaryen from "assemblyscript/binaryen";
import {
  CLOCK_REALTIME, CS_BASES, MAX_AUX_CLOCKS, ms_hyperv_tsc_page as hv, pvclock_vcpu_time_info as pv, vdso_arch_data,
  vdso_clock, vdso_rng_data, vdso_time_data, vdso_timestamp,
} from "../../assembly/layout.ts";

/** One load the module made. */
export interface Load {
  at: number;
  bytes: number;
  op: string;
  atomic: boolean;
  /** The value loaded, as unsigned bits (a seq word's is read out of it). */
  value?: bigint;
}

/** An instrumented module: its bytes, the load op of each id, its memory import. */
export interface Instrumented {
  wasm: Uint8Array<ArrayBuffer>;
  ops: Map<number, string>;
  shared: boolean;
  /** The memory import's initial size in wasm pages. */
  pages: number;
}

/** Instruments `wasm`'s loads; throws if it holds an `atomic.fence` (see above). */
export function instrument(wasm: Uint8Array): Instrumented {
  const m = binaryen.readBinaryWithFeatures(wasm, binaryen.Features.All);
  try {
    const before = m.emitText();
    if (/atomic\.fence/.test(before)) throw new Error("an atomic.fence survived the build: credit it in test/helpers/ordering.ts before judging loads");
    const mem = before.match(/\(import "env" "memory" \(memory \$\S+ (\d+)[^)]*?( shared)?\)\)/);
    if (!mem) throw new Error("the module does not import env.memory");
    m.runPasses(["instrument-memory"]);
    const text = m.emitText();
    const ops = new Map<number, string>();
    for (const [, op, id] of text.matchAll(/\(([if](?:32|64)\.(?:atomic\.)?load\w*)\b[^\n]*\n\s*\(call \$load_ptr\n\s*\(i32\.const (\d+)\)/g)) ops.set(Number(id), op);
    const calls = text.match(/\(call \$load_ptr\n/g)?.length ?? 0;
    if (calls === 0 || calls !== ops.size) throw new Error(`instrument-memory: ${ops.size} of ${calls} load sites identified`);
    return { wasm: new Uint8Array(m.emitBinary()), ops, shared: mem[2] !== undefined, pages: Number(mem[1]) };
  } finally {
    m.dispose();
  }
}

/**
 * The instrumentation's imports: every hook passes its last argument through;
 * `load_ptr` records the load first. `before(at, n)` runs before the n-th
 * load (from 1, per call) of a watched word: a scripted writer.
 */
export class Tracer {
  loads: Load[] = [];
  private seen = new Map<number, number>();
  watched = new Set<number>();
  before?: (at: number, n: number) => void;

  constructor(private ops: Map<number, string>) {}

  /** Starts a call: the load list and the per-call counts begin again. */
  reset(): void {
    this.loads = [];
    this.seen.clear();
  }

  /** The pass's imports of `module` ("env"): each passes its last argument through, `load_ptr` records too. */
  hooks(module: WebAssembly.Module, have: object): Record<string, (...a: never[]) => unknown> {
    const pass = (...a: unknown[]) => a[a.length - 1];
    const h: Record<string, (...a: never[]) => unknown> = {};
    for (const i of WebAssembly.Module.imports(module)) if (i.module === "env" && i.kind === "function" && !(i.name in have)) h[i.name] = pass;
    h.load_ptr = (id: number, bytes: number, offset: number, ptr: number) => {
      const at = (ptr >>> 0) + (offset >>> 0);
      for (const w of words(at, bytes)) {
        if (!this.watched.has(w)) continue;
        const n = (this.seen.get(w) ?? 0) + 1;
        this.seen.set(w, n);
        this.before?.(w, n);
      }
      const op = this.ops.get(id)!;
      this.loads.push({ at, bytes, op, atomic: op.includes(".atomic.") });
      return ptr;
    };
    const value = (_id: number, v: number | bigint) => {
      const l = this.loads[this.loads.length - 1];
      l.value = BigInt.asUintN(8 * l.bytes, BigInt(v));
      return v;
    };
    h.load_val_i32 = h.load_val_i64 = value;
    return h;
  }
}

/** The 4-byte-aligned words a load of `bytes` at `at` touches (wholly or in part). */
function words(at: number, bytes: number): number[] {
  const out: number[] = [];
  for (let w = at & ~3; w < at + bytes; w += 4) out.push(w);
  return out;
}

/** The u32 at `w` out of load `l`'s value (little-endian), if `l` covers it whole. */
function wordValue(l: Load, w: number): number | undefined {
  if (l.value === undefined || w < l.at || w + 4 > l.at + l.bytes) return undefined;
  return Number(BigInt.asUintN(32, l.value >> BigInt(8 * (w - l.at))));
}

/** A seq word: the bytes it guards, and which values of it open a window. */
export interface Seq {
  block: readonly [number, number];
  opens: (v: number) => boolean;
}

/** The words of a store the rule knows: seq words, and words read alone (address -> width). */
export interface Words {
  seq: Map<number, Seq>;
  single: Map<number, number>;
  /** Names an address for a message. */
  name(at: number): string;
}

/** The pages of a view, as `Words` needs them. */
export interface Pages {
  time: number;
  /** Time-namespace pages (their clocks' seq words are seq words too). */
  ns?: number[];
  rng?: number;
  arch?: number;
  pvclock?: number;
  hvclock?: number;
}

const CLOCKS = Array.from({ length: CS_BASES + MAX_AUX_CLOCKS }, (_, i) =>
  i < CS_BASES ? [`clock_data[${i}]`, vdso_time_data.clock_data + i * vdso_clock.SIZE] as const
  : [`aux_clock_data[${i - CS_BASES}]`, vdso_time_data.aux_clock_data + (i - CS_BASES) * vdso_clock.SIZE] as const,
);

/** The field of a time page at offset `off`. */
function timeField(off: number): string {
  for (const [name, base] of CLOCKS) {
    const o = off - base;
    if (o < 0 || o >= vdso_clock.SIZE) continue;
    if (o < vdso_clock.basetime) return `${name}.${vdso_clock[o] ?? `+${o}`}`;
    const b = o - vdso_clock.basetime;
    return `${name}.basetime[${Math.floor(b / vdso_timestamp.SIZE)}].${vdso_timestamp[b % vdso_timestamp.SIZE] ?? "?"}`;
  }
  return vdso_time_data[off] ?? `+${off}`;
}

export function storeWords(p: Pages): Words {
  const seq = new Map<number, Seq>();
  const single = new Map<number, number>();
  const even = (v: number) => (v & 1) === 0;
  const blocks = [p.time, ...(p.ns ?? []), ...(p.arch === undefined ? [] : [p.arch + vdso_arch_data.shadow])];
  for (const page of blocks) for (const [, base] of CLOCKS) seq.set(page + base + vdso_clock.seq, { block: [page + base, page + base + vdso_clock.SIZE], opens: even });
  if (p.arch !== undefined) single.set(p.arch + vdso_arch_data.counter, 8);
  if (p.pvclock !== undefined) seq.set(p.pvclock + pv.version, { block: [p.pvclock, p.pvclock + PVCLOCK_SIZE], opens: even });
  // Hyper-V's sequence is not a parity count: any value may open a read (0 says "invalid" instead).
  if (p.hvclock !== undefined) seq.set(p.hvclock + hv.tsc_sequence, { block: [p.hvclock, p.hvclock + HV_SIZE], opens: () => true });
  if (p.rng !== undefined) {
    single.set(p.rng + vdso_rng_data.generation, 8);
    single.set(p.rng + vdso_rng_data.is_ready, 1);
  }
  single.set(p.time + vdso_time_data.clock_data + vdso_clock.basetime + CLOCK_REALTIME * vdso_timestamp.SIZE + vdso_timestamp.sec, 8);
  const name = (at: number): string => {
    const where: [string, number | undefined][] = [["time", p.time], ...(p.ns ?? []).map((a, i): [string, number] => [`ns${i}`, a]), ["rng", p.rng], ["arch", p.arch], ["pvclock", p.pvclock], ["hvclock", p.hvclock]];
    for (const [n, base] of where) {
      if (base === undefined || at < base || at >= base + 4096) continue;
      const off = at - base;
      if (n === "rng") return `rng.${vdso_rng_data[off] ?? `+${off}`}`;
      if (n === "pvclock") return `pvclock.${pv[off] ?? `+${off}`}`;
      if (n === "hvclock") return `hvclock.${hv[off] ?? `+${off}`}`;
      if (n === "arch") return off >= vdso_arch_data.shadow ? `arch.shadow.${timeField(off - vdso_arch_data.shadow)}` : `arch.${vdso_arch_data[off] ?? `+${off}`}`;
      return `${n}.${timeField(off)}`;
    }
    return `@${at}`;
  };
  return { seq, single, name };
}

/** `struct pvclock_vcpu_time_info` and `struct ms_hyperv_tsc_page` as far as the reader reads them. */
const PVCLOCK_SIZE = 32;
const HV_SIZE = 24;

/** What one call's loads did against the rule. */
export interface Verdict {
  /** One line per load that breaks the rule. */
  violations: string[];
  /** Windows (two loads of one seq word) that held at least one data load. */
  windows: number;
}

/** Holds `loads` (one call's, in order) to the rule. */
export function judge(loads: readonly Load[], w: Words): Verdict {
  const violations: string[] = [];
  const open = new Map<number, number>();
  let windows = 0;
  loads.forEach((l, i) => {
    const width = w.single.get(l.at);
    if (width !== undefined && (!l.atomic || l.bytes !== width)) violations.push(`${w.name(l.at)} loaded with ${l.op}, not as one atomic ${width}-byte load`);
    for (const at of words(l.at, l.bytes)) {
      const s = w.seq.get(at);
      if (!s) continue;
      if (!l.atomic) violations.push(`${w.name(at)} loaded with ${l.op}`);
      if (at < l.at || at + 4 > l.at + l.bytes) violations.push(`${w.name(at)} loaded in part with ${l.op} (${l.bytes} bytes at ${w.name(l.at)})`);
      const from = open.get(at);
      if (from !== undefined) {
        let data = 0;
        for (let j = from + 1; j < i; j++) {
          const d = loads[j];
          if (d.at >= s.block[1] || d.at + d.bytes <= s.block[0] || (d.at <= at && d.at + d.bytes > at)) continue;
          data++;
          if (!d.atomic) violations.push(`${w.name(d.at)} loaded with ${d.op} between two loads of ${w.name(at)}`);
        }
        if (data > 0) windows++;
      }
      const v = wordValue(l, at);
      if (l.value === undefined || (v !== undefined && s.opens(v))) open.set(at, i);
      else open.delete(at);
    }
  });
  return { violations: [...new Set(violations)], windows };
}
