/**
 * What bench/readpath.ts and bench/builds.ts share: a wasm build bound to a
 * kernel's store as a reader, and rows measured against one reference loop in
 * alternating 3 ms slices (the reference before and after each slice, so a
 * drift of the machine's speed within a round cancels out).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NO_PAGE } from "../assembly/layout.ts";
import type { Kernel } from "../src/kernel/kernel.ts";
import { kernelSyscalls } from "../src/reader.ts";
import { claimSlot, slotAddr, vdsoImports } from "../src/wasm.ts";
import { median } from "./measure.ts";

/** `bytes` instantiated as a reader of `k`'s root view, in a slot of its own. */
export async function boundReader<T>(k: Kernel, bytes: BufferSource, what: string): Promise<T> {
  const host = { counter: k.cs.read.bind(k.cs), syscalls: kernelSyscalls(k, null), hostRandomCalls: 0 };
  const { instance } = await WebAssembly.instantiate(bytes, vdsoImports(k.memory, () => host));
  const e = instance.exports as unknown as { set_slot(p: number): number; bind(...a: number[]): number };
  const v = k.rootView(), page = (a: number | undefined) => a ?? NO_PAGE;
  if (e.set_slot(slotAddr(claimSlot(k.memory))) !== 0 || e.bind(v.time, page(v.real), page(v.rng), page(v.arch), page(v.pvclock), page(v.hvclock)) !== 0) throw new Error(`${what}: slot or bind`);
  return instance.exports as T;
}

/** ns per read of `f` (each call makes `per` reads) over at least `ms`. */
function slice(f: () => unknown, ms: number, per: number): number {
  const t0 = performance.now();
  let n = 0, t1: number;
  do { f(); n++; } while ((t1 = performance.now()) - t0 < ms);
  return ((t1 - t0) * 1e6) / (n * per);
}

/** Every row of `fns` against `ref` for `rounds` rounds: the median ratio and ns per row, and the reference's median ns. */
export async function sandwich(fns: Record<string, () => unknown>, ref: () => unknown, per: number, rounds: number, warmMs: number) {
  for (const f of [ref, ...Object.values(fns)]) slice(f, warmMs, per); // tier up to TurboFan
  const ratios: Record<string, number[]> = {}, ns: Record<string, number[]> = {}, refs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(fns)) {
      await new Promise((res) => setImmediate(res)); // the kernel ticks between slices
      slice(f, 1, per);
      const a = slice(ref, 3, per), b = slice(f, 3, per), c = slice(ref, 3, per);
      (ratios[name] ??= []).push((2 * b) / (a + c));
      (ns[name] ??= []).push(b);
      refs.push((a + c) / 2);
    }
  }
  const rows = Object.fromEntries(Object.keys(fns).map((name) => [name, { ratio: median(ratios[name]), ns: median(ns[name]) }]));
  return { rows, refNs: median(refs) };
}

/** Writes `data` to bench/results/<prefix>-<date>.json and says where. */
export function writeResult(root: string, prefix: string, data: object): void {
  mkdirSync(join(root, "bench/results"), { recursive: true });
  const file = join(root, "bench/results", `${prefix}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...data }, null, 2));
  console.log(`\nJSON: ${file}`);
}
