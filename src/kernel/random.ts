/**
 * The rng page (drivers/char/random.c's vDSO side): `is_ready` once the
 * generator is seeded, and a `generation` that changes on every reseed so
 * that vDSO getrandom states rekey. Never 0 once set.
 */
import { vdso_rng_data } from "../../assembly/layout.ts";
import type { DataStore } from "../datastore.ts";
import { U64_MAX } from "../time.ts";

export class RngPage {
  private base = 0n;

  constructor(private store: DataStore) {}

  /**
   * The generator is seeded: publish a first generation, then is_ready, in
   * that order as random.c does (smp_store_release of the generation in
   * crng_reseed, then WRITE_ONCE of is_ready): both are seq_cst stores here.
   * The page has no seq: each is one word, read alone.
   */
  init(): void {
    this.reseed();
    this.store.storeU32Atomic(this.store.rng + vdso_rng_data.is_ready, 1);
  }

  /** A reseed (or a snapshot restore, or a fork-like event): readers must rekey. */
  reseed(): bigint {
    this.base = this.base + 1n === U64_MAX ? 0n : this.base + 1n;
    const gen = this.base + 1n; // never 0
    this.store.storeU64Atomic(this.store.rng + vdso_rng_data.generation, gen);
    return gen;
  }

  get generation(): bigint {
    return this.store.getU64(this.store.rng + vdso_rng_data.generation);
  }

  get isReady(): boolean {
    return (this.store.loadU32Atomic(this.store.rng + vdso_rng_data.is_ready) & 0xff) !== 0;
  }
}
