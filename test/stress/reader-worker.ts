// A reader thread of the torn-read harness: the harness's wasm module (through
// the bridge) on the shared memory, `check_reads` of each of its paths in turn,
// in chunks, bound to the path's view; counts published with atomics.
import { workerData, parentPort } from "node:worker_threads";
import { ENOSYS, reader_slot } from "../../assembly/layout.ts";
import type { View } from "../../src/datastore.ts";
import { Vdso } from "../../src/wasm.ts";
import type { StressBuild } from "./harness.ts";

const { memory, build, paths, views, reads, chunk, stopOnTorn, status, idx, readers } = workerData as {
  memory: WebAssembly.Memory; build: StressBuild; paths: number[]; views: View[]; reads: number; chunk: number;
  stopOnTorn: boolean; status: SharedArrayBuffer; idx: number; readers: number;
};
const PER_PATH = 4;
const NPATHS = 10; // PATHS.length in harness.ts
const STRIDE = NPATHS * PER_PATH + 1;

const fail = () => -ENOSYS;
const v = await Vdso.create({ memory, build, counter: () => 0n, syscalls: { clock_gettime: fail, clock_getres: fail, gettimeofday: fail } });
const e = v.exports as unknown as { check_reads(path: number, n: number): number; last_fallback_count(): number };

// status: BigInt64 per reader: per path [reads, checked, torn, fallbacks], then give-ups; at the end an i32 count of readers ready, an i32 stop flag
const counts = new BigInt64Array(status, 0, readers * STRIDE);
const stop = new Int32Array(status, status.byteLength - 4, 1);
Atomics.add(new Int32Array(status, status.byteLength - 8, 1), 0, 1);
const at = (p: number, k: number) => idx * STRIDE + p * PER_PATH + k;
const tornAnywhere = (p: number) => {
  for (let r = 0; r < readers; r++) if (Atomics.load(counts, r * STRIDE + p * PER_PATH + 2) > 0n) return true;
  return false;
};
const done = paths.map(() => 0);
const checked = paths.map(() => 0);
const torn = paths.map(() => 0);
const fallbacks = paths.map(() => 0);
let active = true;
while (active && Atomics.load(stop, 0) === 0) {
  active = false;
  for (let i = 0; i < paths.length && Atomics.load(stop, 0) === 0; i++) {
    const p = paths[i];
    // Until this reader has checked its share (reads that fell back do not count;
    // the harness's time cap ends a path that only falls back); a negative
    // control moves on once any reader caught the path.
    if (checked[i] >= reads || (stopOnTorn && tornAnywhere(p))) continue;
    active = true;
    v.bind(views[i]);
    torn[i] += e.check_reads(p, chunk);
    const fb = e.last_fallback_count();
    done[i] += chunk;
    checked[i] += chunk - fb;
    fallbacks[i] += fb;
    Atomics.store(counts, at(p, 0), BigInt(done[i]));
    Atomics.store(counts, at(p, 1), BigInt(checked[i]));
    Atomics.store(counts, at(p, 2), BigInt(torn[i]));
    Atomics.store(counts, at(p, 3), BigInt(fallbacks[i]));
    Atomics.store(counts, idx * STRIDE + STRIDE - 1, BigInt(v.view.getUint32(v.scratch + reader_slot.give_ups, true)));
  }
}
parentPort!.postMessage("done");
