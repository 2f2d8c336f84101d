/**
 * Writer side of the vDSO seqlock (include/vdso/helpers.h). The seq stores
 * are `Atomics.store`, sequentially consistent: everything before a store is
 * visible to a reader that sees it, which is the kernel's smp_wmb().
 */
import { CS_BASES, vdso_clock, vdso_time_data } from "../../assembly/layout.ts";
import type { DataStore } from "../datastore.ts";

const seqOf = (vd: number, cs: number) => vd + vdso_time_data.clock_data + cs * vdso_clock.SIZE + vdso_clock.seq;

/** `vdso_write_begin`: seq odd on both clock_data, before any field changes. */
export function writeBegin(store: DataStore, vd: number): void {
  for (let cs = 0; cs < CS_BASES; cs++) store.storeU32Atomic(seqOf(vd, cs), store.loadU32Atomic(seqOf(vd, cs)) + 1);
}

/** `vdso_write_end`: seq even again, after every field is written. */
export function writeEnd(store: DataStore, vd: number): void {
  writeBegin(store, vd);
}

/** `vdso_write_begin_clock`: one clock's seq (aux clocks). */
export function writeBeginClock(store: DataStore, vc: number): void {
  store.storeU32Atomic(vc + vdso_clock.seq, store.loadU32Atomic(vc + vdso_clock.seq) + 1);
}

export function writeEndClock(store: DataStore, vc: number): void {
  writeBeginClock(store, vc);
}
