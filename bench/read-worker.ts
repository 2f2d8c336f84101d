// A reader thread for the aggregate-throughput row: the testing build (the
// release reader plus `read_loop`) made through the bridge on the kernel's
// shared memory, read_loop in chunks until told to stop.
import { parentPort, workerData } from "node:worker_threads";
import { ENOSYS } from "../assembly/layout.ts";
import { hostClocksource } from "../src/kernel/clocksource.ts";
import { Vdso } from "../src/wasm.ts";
import { testingExports } from "../test/helpers/testing.ts";

const { memory, view, clock, status, idx } = workerData as {
  memory: WebAssembly.Memory; view: import("../src/datastore.ts").View; clock: number; status: SharedArrayBuffer; idx: number;
};
// The kernel is in another thread: no syscalls to fall back on (a read that needs one fails the row).
const fail = () => -ENOSYS;
const v = await Vdso.create({ memory, build: "testing", counter: hostClocksource().read, syscalls: { clock_gettime: fail, clock_getres: fail, gettimeofday: fail } });
v.bind(view);
const { read_loop } = testingExports(v);
const counts = new BigInt64Array(status, 0, idx + 1);
const flags = new Int32Array(status, status.byteLength - 8, 2); // [go, stop]
parentPort!.postMessage("ready");
Atomics.wait(flags, 0, 0);
const CHUNK = 10_000;
let reads = 0;
while (Atomics.load(flags, 1) === 0) {
  if (read_loop(clock, CHUNK) < 0n) throw new Error("read failed");
  reads += CHUNK;
  Atomics.store(counts, idx, BigInt(reads));
}
v.close();
parentPort!.postMessage("done");
