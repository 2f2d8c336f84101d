// A reader thread for the aggregate-throughput row: the production shared
// module on the kernel's memory, read_loop until told to stop.
import { readFileSync } from "node:fs";
import { workerData } from "node:worker_threads";

const { memory, wasmPath, view, slot, clock, status, idx } = workerData;
const ENOSYS = -38;
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), {
  env: { memory, abort() {} },
  vdso: { rdtsc: () => process.hrtime.bigint(), sys_clock_gettime: () => ENOSYS, sys_clock_getres: () => ENOSYS, sys_gettimeofday: () => ENOSYS, sys_getrandom: () => BigInt(ENOSYS) },
});
if (exports.set_slot(slot) !== 0 || exports.bind(view.time, -1, view.rng, view.arch, -1, -1) !== 0) throw new Error("bad slot or view");
const counts = new BigInt64Array(status, 0, idx + 1);
const flags = new Int32Array(status, status.byteLength - 8, 2); // [go, stop]
Atomics.wait(flags, 0, 0);
const CHUNK = 10_000;
let reads = 0;
while (Atomics.load(flags, 1) === 0) {
  if (exports.read_loop(clock, CHUNK) < 0n) throw new Error("read failed");
  reads += CHUNK;
  Atomics.store(counts, idx, BigInt(reads));
}
