// A reader thread of the torn-read harness: the harness's wasm module (through
// the bridge) on the shared memory, `check_reads` in chunks, counts published with atomics.
import { workerData, parentPort } from "node:worker_threads";
import { ENOSYS, reader_slot } from "../../assembly/layout.ts";
import { Vdso } from "../../src/wasm.ts";

const { memory, noSeqlock, view, reads, chunk, status, idx } = workerData;
const fail = () => -ENOSYS;
const v = await Vdso.create({
  memory, build: noSeqlock ? "stress-noseqlock" : "stress", counter: () => 0n,
  syscalls: { clock_gettime: fail, clock_getres: fail, gettimeofday: fail },
});
v.bind(view);
const e = v.exports as unknown as { check_reads(n: number): number; fallback_count(): number };

// status: BigInt64 [reads, torn, fallbacks, give-ups] per reader, then an i32 stop flag at the end
const counts = new BigInt64Array(status, 0, idx * 4 + 4);
const stop = new Int32Array(status, status.byteLength - 4, 1);
let done = 0;
let torn = 0;
while (done < reads && Atomics.load(stop, 0) === 0) {
  torn += e.check_reads(chunk);
  done += chunk;
  Atomics.store(counts, idx * 4, BigInt(done));
  Atomics.store(counts, idx * 4 + 1, BigInt(torn));
  Atomics.store(counts, idx * 4 + 2, BigInt(e.fallback_count()));
  Atomics.store(counts, idx * 4 + 3, BigInt(v.view.getUint32(v.scratch + reader_slot.give_ups, true)));
}
parentPort!.postMessage("done");
