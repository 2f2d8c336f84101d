/**
 * What the writer's ordering costs: one timekeeper update (core + 8 aux
 * clocks, virtual clocksource, store in shared memory: bench/rows.ts's
 * writer row) by several writers in one process, in alternating slices.
 * Each writer is a copy of the source tree in a temporary folder:
 *   before     the tree at `--before <rev>` (default 0c92780: plain field
 *              stores, nothing after the odd seq)
 *   after      this tree (odd seq, Atomics.load read-back, fields, even seq;
 *              REALTIME's seconds one 64-bit Atomics.store)
 *   sec-plain  this tree with REALTIME's seconds stored like the other fields
 *   w3-add     this tree with Atomics.add on a writer-only word instead of the read-back (litmus W3)
 *   c3         this tree with every field store an Atomics.store of its own
 *              width (u64 as one BigUint64 store; the shadow copy word by word):
 *              the writer the JS memory model alone proves (litmus C3)
 * Run: npx tsx bench/writer-order.ts [--before <rev>] [--rounds N]
 * Prints ns per update (median and 10th percentile of the rounds) and the
 * medians' ratio to `before`.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BEFORE = arg("before", "0c92780");
const ROUNDS = Number(arg("rounds", "61"));
const TICKS = 1_000; // a slice: ~5-10 ms, short so that a busy machine hits every writer alike

const tmp = mkdtempSync(join(tmpdir(), "writer-order-"));
writeFileSync(join(tmp, "package.json"), '{ "type": "module" }\n'); // the copies are ES modules, as in the repo
/** A copy of src/ and assembly/ at `rev` (or the working tree), `edit` applied to its files. */
function tree(name: string, rev?: string, edit?: (file: string, text: string) => string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  if (rev) execFileSync("sh", ["-c", `git -C "${ROOT}" archive ${rev} src assembly | tar -x -C "${dir}"`]);
  else for (const d of ["src", "assembly"]) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
  if (edit) {
    for (const f of ["src/kernel/vsyscall.ts", "src/datastore.ts"]) {
      const p = join(dir, f);
      const before = readFileSync(p, "utf8");
      const after = edit(f, before);
      writeFileSync(p, after);
    }
  }
  return dir;
}

function mustReplace(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`edit: "${from.slice(0, 60)}" not found`);
  return text.replace(from, to);
}

const SEC_ATOMIC = "if (typeof rtSec === \"number\") store.storeU64AtomicN(baseAt(vc, CLOCK_REALTIME) + vdso_timestamp.sec, rtSec);\n  else store.storeU64Atomic(baseAt(vc, CLOCK_REALTIME) + vdso_timestamp.sec, rtSec);";
const READBACK = "    this.storeU32Atomic(addr, v);\n    return this.loadU32Atomic(addr);";

// Every field store atomic at its own width; the shadow copy one u32 word at a time (its offsets are 4 mod 8).
// Put last in the class, so these definitions are the ones that count.
const C3_METHODS = `
  setU32(addr: number, v: number): void { this.views(); Atomics.store(this.u32!, addr >>> 2, v >>> 0); }
  setI32(addr: number, v: number): void { this.views(); Atomics.store(this.u32!, addr >>> 2, v >>> 0); }
  setU64(addr: number, v: bigint): void { this.views(); if (addr & 7) throw new Error("c3: unaligned u64"); Atomics.store(this.u64!, addr >>> 3, v); }
  setU64n(addr: number, v: number): void { this.views(); if (addr & 7) throw new Error("c3: unaligned u64"); Atomics.store(this.u64!, addr >>> 3, BigInt(v)); }
  copy(to: number, from: number, len: number): void {
    this.views();
    for (let i = 0; i < len; i += 4) Atomics.store(this.u32!, (to + i) >>> 2, this.u32![(from + i) >>> 2]);
  }
  bytes(`;

const variants: Record<string, string> = {
  before: tree("before", BEFORE),
  after: tree("after"),
  "sec-plain": tree("sec-plain", undefined, (f, t) => (f.endsWith("vsyscall.ts") ? mustReplace(t, SEC_ATOMIC, "setU64(store, baseAt(vc, CLOCK_REALTIME) + vdso_timestamp.sec, rtSec);") : t)),
  "w3-add": tree("w3-add", undefined, (f, t) =>
    f.endsWith("datastore.ts") ? mustReplace(t, READBACK, "    this.storeU32Atomic(addr, v);\n    if (this.shared) Atomics.add(W3_WORD, 0, 0);\n    return v;") + "\nconst W3_WORD = new Int32Array(new SharedArrayBuffer(64));\n" : t),
  c3: tree("c3", undefined, (f, t) => (f.endsWith("datastore.ts") ? mustReplace(t, "  bytes(", C3_METHODS) : t)),
};

interface Writer {
  tick(): void;
  close(): void;
}
async function writer(dir: string): Promise<Writer> {
  const { Kernel } = await import(pathToFileURL(join(dir, "src/kernel/kernel.ts")).href);
  const { VirtualClocksource } = await import(pathToFileURL(join(dir, "src/kernel/clocksource.ts")).href);
  const { storeMemory } = await import(pathToFileURL(join(dir, "src/datastore.ts")).href);
  const vcs = new VirtualClocksource();
  const k = await Kernel.create({ clocksource: vcs, memory: storeMemory(true), realtime: { sec: 1_700_000_000n, nsec: 0n } });
  for (let i = 0; i < 8; i++) k.auxClockEnable(i, true);
  return {
    tick() {
      vcs.advanceNs(4_000_000);
      k.tick();
    },
    close: () => k.close(),
  };
}

const writers = Object.fromEntries(await Promise.all(Object.entries(variants).map(async ([n, d]) => [n, await writer(d)] as const)));
const names = Object.keys(writers);
// CPU time (user + system, this process), not wall time: on a shared machine
// the time this process is not running would count against whichever writer it hit.
const slice = (w: Writer) => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < TICKS; i++) w.tick();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / TICKS;
};
for (let i = 0; i < 5; i++) for (const n of names) slice(writers[n]); // warm-up
const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...names].reverse() : names;
  for (const n of order) samples[n].push(slice(writers[n]));
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
const base = pct(samples.before, 0.5);
console.log(`node ${process.version}, ${ROUNDS} rounds of ${TICKS} updates each, alternating; CPU ns per update (core + 8 aux clocks, shared memory)`);
for (const n of names) {
  const m = pct(samples[n], 0.5);
  // Each round's slices ran back to back: the median of the per-round ratios is the steadiest comparison.
  const ratio = pct(samples[n].map((x, r) => x / samples.before[r]), 0.5);
  console.log(`${n.padEnd(10)} median ${m.toFixed(0).padStart(6)} ns  p10 ${pct(samples[n], 0.1).toFixed(0).padStart(6)} ns  x${(m / base).toFixed(3)}  (per round: x${ratio.toFixed(3)})`);
}
for (const w of Object.values(writers)) w.close();
rmSync(tmp, { recursive: true, force: true });
