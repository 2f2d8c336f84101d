/**
 * The torn-read harness: one writer updating a time page at full speed with
 * the production writer (seq begin, fields, seq end), values obeying the
 * invariant `assembly/stress.ts` checks, and N reader workers checking every
 * read. With `noSeqlock` the readers are built without the seqlock check:
 * the negative control, which must see torn reads.
 */
import { CLOCK_MONOTONIC, NO_PAGE, vdso_arch_data, vdso_clock, vdso_clock_mode, vdso_timestamp } from "../../assembly/layout.ts";
import { DataStore, storeMemory } from "../../src/datastore.ts";
import { writeBegin, writeEnd } from "../../src/kernel/seqlock.ts";
import { spawn } from "../../src/workers/spawn.ts";

export interface StressResult {
  readers: number;
  reads: bigint;
  torn: bigint;
  fallbacks: bigint;
  /** Times a reader gave up waiting on one odd seq (the writer paused mid-update for ~1 ms). */
  giveUps: bigint;
  updates: number;
  ms: number;
}

const COUNTER = 1n << 40n;

export async function runStress(opts: { readers?: number; readsPerReader: number; noSeqlock?: boolean; maxMs?: number; stopOnTorn?: boolean }): Promise<StressResult> {
  const readers = opts.readers ?? 4;
  const chunk = 100_000;
  const memory = storeMemory(true);
  const store = new DataStore(memory);
  const vc = store.time + vdso_clock.SIZE * 0;
  const bt = vc + vdso_clock.basetime + CLOCK_MONOTONIC * vdso_timestamp.SIZE;
  store.setI32(vc + vdso_clock.clock_mode, vdso_clock_mode.VIRTUAL);
  store.setU64(vc + vdso_clock.max_cycles, 1n << 32n);
  store.setU64(vc + vdso_clock.mask, (1n << 64n) - 1n);
  store.setU32(vc + vdso_clock.mult, 1);
  store.setU32(vc + vdso_clock.shift, 0);
  store.storeU64Atomic(store.arch + vdso_arch_data.counter, COUNTER);

  // One update: cycle_last, sec and nsec of MONOTONIC all derived from v.
  const update = (v: bigint) => {
    writeBegin(store, store.time);
    store.setU64(vc + vdso_clock.cycle_last, COUNTER - (v % 1000n));
    store.setU64(bt + vdso_timestamp.sec, v);
    store.setU64(bt + vdso_timestamp.nsec, (v * 7919n) % 1_000_000n);
    writeEnd(store, store.time);
  };
  let v = 1n;
  update(v);

  const status = new SharedArrayBuffer(readers * 4 * 8 + 8);
  const counts = new BigInt64Array(status, 0, readers * 4);
  const stop = new Int32Array(status, status.byteLength - 4, 1);
  const exits: Promise<unknown>[] = [];
  for (let idx = 0; idx < readers; idx++) {
    const data = { memory, noSeqlock: !!opts.noSeqlock, view: { time: store.time, arch: store.arch, real: NO_PAGE }, reads: opts.readsPerReader, chunk, status, idx };
    const w = await spawn(new URL("./reader-worker.ts", import.meta.url), data);
    exits.push(new Promise((resolve, reject) => (w.onMessage(resolve), w.onError(reject))).finally(() => w.terminate()));
  }
  let finished = false;
  Promise.all(exits).then(() => (finished = true), () => (finished = true));

  const t0 = performance.now();
  const sum = (k: number) => counts.filter((_, i) => i % 4 === k).reduce((a, b) => a + b, 0n);
  // The writer runs flat out; every 4096 updates it yields once so worker exits are noticed.
  while (!finished) {
    for (let i = 0; i < 4096; i++) update(++v);
    const elapsed = performance.now() - t0;
    if ((opts.maxMs !== undefined && elapsed > opts.maxMs) || (opts.stopOnTorn && sum(1) > 0n)) Atomics.store(stop, 0, 1);
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(exits);
  return { readers, reads: sum(0), torn: sum(1), fallbacks: sum(2), giveUps: sum(3), updates: Number(v), ms: performance.now() - t0 };
}
