// A reader thread of the torn-read harness: the harness's wasm module on the
// shared memory, `check_reads` in chunks, counts published with atomics.
import { readFileSync } from "node:fs";
import { workerData } from "node:worker_threads";

const { memory, wasmPath, view, slot, reads, chunk, status, idx } = workerData;
const ENOSYS = -38;
const module = new WebAssembly.Module(readFileSync(wasmPath));
const { exports } = new WebAssembly.Instance(module, {
  env: { memory, abort() {} },
  vdso: { rdtsc: () => 0n, sys_clock_gettime: () => ENOSYS, sys_clock_getres: () => ENOSYS, sys_gettimeofday: () => ENOSYS, sys_getrandom: () => BigInt(ENOSYS) },
});
if (exports.set_slot(slot) !== 0 || exports.bind(view.time, -1, -1, view.arch, -1, -1) !== 0) throw new Error("bad slot or view");

// status: BigInt64 [reads, torn, fallbacks] per reader, then an i32 stop flag at the end
const counts = new BigInt64Array(status, 0, idx * 3 + 3);
const stop = new Int32Array(status, status.byteLength - 4, 1);
let done = 0;
let torn = 0;
while (done < reads && Atomics.load(stop, 0) === 0) {
  torn += exports.check_reads(chunk);
  done += chunk;
  Atomics.store(counts, idx * 3, BigInt(done));
  Atomics.store(counts, idx * 3 + 1, BigInt(torn));
  Atomics.store(counts, idx * 3 + 2, BigInt(exports.fallback_count()));
}
