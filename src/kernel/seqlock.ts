/**
 * Writer side of the vDSO seqlock (include/vdso/helpers.h). Begin: the odd seq
 * by `Atomics.store`, then an `Atomics.load` of that seq, Linux's smp_wmb():
 * no later field store becomes visible before the odd seq (ARM64: STLR then
 * LDAR, and LDAR orders every later access, litmus W2: Never; x86-64: the store
 * is an xchg and TSO keeps stores in order, the load is a plain mov). End: the
 * even seq by `Atomics.store`, a release after every field store (ARM64 STLR,
 * E0: Never; x86-64 TSO). Not `Atomics.add` on a dummy word (also Never, W3,
 * but x1.2 a block), nor every field as `Atomics.store` (bench/writer-order.ts).
 * JS has no fence: by the JS/Wasm memory model alone, only a writer whose every
 * field store is seq_cst is proven (C3). Ours relies on what every correct
 * lowering of a seq_cst load after a seq_cst store gives: LDAR, or LDR; DMB on
 * ARMv8 (both keep later stores after it; LDAPR could not be used there, W2b)
 * and program order on x86-64 (TSO). On an unshared memory no other agent
 * exists and the accesses are plain (DataStore).
 *
 * Unlike Linux's writer, ours cannot trust that nobody else touched seq (a
 * stray write, a writer that died mid-update before this one adopted the
 * store): begin always leaves seq odd and different from what it was, end
 * always leaves it even, so readers never read inside a write window.
 */
import { CS_BASES, vdso_clock, vdso_time_data } from "../../assembly/layout.ts";
import type { DataStore } from "../datastore.ts";

const clockOf = (vd: number, cs: number) => vd + vdso_time_data.clock_data + cs * vdso_clock.SIZE;

/** `vdso_write_begin_clock`: one clock's seq odd (and moved), ordered before any of its fields changes. */
export function writeBeginClock(store: DataStore, vc: number): void {
  const s = store.getU32(vc + vdso_clock.seq); // only the writer stores seq: a plain load sees its own last store
  store.storeU32AtomicReadBack(vc + vdso_clock.seq, s & 1 ? s + 2 : s + 1);
}

/** `vdso_write_end_clock`: even again, released after every field is written. */
export function writeEndClock(store: DataStore, vc: number): void {
  const s = store.getU32(vc + vdso_clock.seq);
  store.storeU32Atomic(vc + vdso_clock.seq, s & 1 ? s + 1 : s + 2);
}

/** `vdso_write_begin`: both clock_data odd. */
export function writeBegin(store: DataStore, vd: number): void {
  for (let cs = 0; cs < CS_BASES; cs++) writeBeginClock(store, clockOf(vd, cs));
}

/** `vdso_write_end`: both even again. */
export function writeEnd(store: DataStore, vd: number): void {
  for (let cs = 0; cs < CS_BASES; cs++) writeEndClock(store, clockOf(vd, cs));
}
