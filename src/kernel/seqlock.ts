/**
 * Writer side of the vDSO seqlock (include/vdso/helpers.h). Begin: the odd seq
 * by Atomics.store, then an Atomics.load of it in place of smp_wmb(), so no
 * later field store is seen before the odd seq (ARM64 STLR; LDAR:
 * memory-order/W1, P1; x86-64 TSO). End: the even seq by Atomics.store, a
 * release of every field store (STLR: E1). JS has no fence: the language
 * model alone proves only a writer whose every field store is seq_cst (C3,
 * a tick x2.8-3.0); the read-back rests on what every correct lowering of a
 * seq_cst load after a seq_cst store does (ARMv8: LDAR, or LDR; DMB), for a
 * tick x1.03-1.06 (bench/writer-order.ts; README "Memory model").
 */
import { CS_BASES, vdso_clock, vdso_time_data } from "../../assembly/layout.ts";
import { type DataStore, StoreAdoptedError } from "../datastore.ts";

const clockOf = (vd: number, cs: number) => vd + vdso_time_data.clock_data + cs * vdso_clock.SIZE;

/**
 * `vdso_write_begin_clock`: one clock's seq odd, ordered before any of its
 * fields changes. Unlike Linux's writer, ours cannot trust that nobody else
 * touched seq (a stray write, a writer that died mid-update before this one
 * adopted the store): begin always leaves seq odd and different from what it
 * was, end always leaves it even, so readers never read inside a write window.
 * Then, inside the window, the claim once more: a writer fenced by an adopter
 * stops here, seq left odd and no field written (kernel/adopt.ts settle says
 * why this check after the odd store is enough).
 */
export function writeBeginClock(store: DataStore, vc: number): void {
  const s = store.getU32(vc + vdso_clock.seq); // only the writer stores seq: a plain load sees its own last store
  store.storeU32AtomicReadBack(vc + vdso_clock.seq, s & 1 ? s + 2 : s + 1);
  if (store.fenced()) throw new StoreAdoptedError();
}

/**
 * `vdso_write_end_clock`: even again, released after every field is written;
 * but not by a writer fenced meanwhile (it stalled past an adoption): it
 * leaves the block odd, so no reader takes its fields, and the adopter
 * publishes it again.
 */
export function writeEndClock(store: DataStore, vc: number): void {
  const s = store.getU32(vc + vdso_clock.seq);
  if (store.fenced()) {
    store.storeU32Atomic(vc + vdso_clock.seq, s & 1 ? s + 2 : s + 1);
    throw new StoreAdoptedError();
  }
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
