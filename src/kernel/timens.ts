/**
 * Time namespaces (kernel/time/namespace.c): a namespace owns a page laid out
 * like `vdso_time_data` whose clocks all say "seq 1, mode TIMENS" and carry
 * the namespace's monotonic and boottime offsets. A reader bound to it takes
 * the odd-seq path, reads the real page and adds the offset.
 */
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CS_BASES, MAX_AUX_CLOCKS,
  vdso_clock, vdso_clock_mode, vdso_timestamp,
} from "../../assembly/layout.ts";
import type { DataStore } from "../datastore.ts";
import type { View } from "../datastore.ts";
import { normalize, type Timespec } from "../time.ts";
import { writeBeginClock } from "./seqlock.ts";
import { auxClockAt, clockAt } from "./vsyscall.ts";

export interface TimeNamespace {
  readonly page: number;
  readonly monotonic: Timespec;
  readonly boottime: Timespec;
  /** The view of a task inside: namespace page first, the real page behind it. */
  readonly view: View;
}

/**
 * `timens_setup_vdso_clock_data` for one clock of a fresh (zeroed) page: seq 1
 * by the writer's begin (odd, then the barrier), then the fields, which no
 * even seq ever follows (as in Linux). Like Linux, which fills the page before
 * a task maps it, the view is handed out only once this returns.
 */
function setupClock(store: DataStore, vc: number, mono: Timespec, boot: Timespec): void {
  writeBeginClock(store, vc); // 0 -> 1
  store.setI32(vc + vdso_clock.clock_mode, vdso_clock_mode.TIMENS);
  const put = (clock: number, o: Timespec) => {
    const at = vc + vdso_clock.basetime + clock * vdso_timestamp.SIZE;
    store.setU64(at + vdso_timestamp.sec, o.sec);
    store.setU64(at + vdso_timestamp.nsec, o.nsec);
  };
  put(CLOCK_MONOTONIC, mono);
  put(CLOCK_MONOTONIC_RAW, mono);
  put(CLOCK_MONOTONIC_COARSE, mono);
  put(CLOCK_BOOTTIME, boot);
  put(CLOCK_BOOTTIME_ALARM, boot);
}

/**
 * Builds a namespace page (in `page`, else a newly allocated one). `auxClocks`
 * marks the aux slots too, as a kernel with POSIX_AUX_CLOCKS does (the public
 * snapshot's kernel did not). The offsets' checks are the Kernel's.
 */
export function createTimeNamespace(store: DataStore, monotonic: Timespec, boottime: Timespec, auxClocks = true, page?: number): TimeNamespace {
  const mono = normalize(monotonic.sec, monotonic.nsec);
  const boot = normalize(boottime.sec, boottime.nsec);
  page ??= store.allocPage();
  for (let cs = 0; cs < CS_BASES; cs++) setupClock(store, clockAt(page, cs), mono, boot);
  if (auxClocks) for (let i = 0; i < MAX_AUX_CLOCKS; i++) setupClock(store, auxClockAt(page, i), mono, boot);
  const ns = Object.freeze({
    page,
    monotonic: Object.freeze(mono),
    boottime: Object.freeze(boot),
    view: Object.freeze({ time: page, real: store.time, rng: store.rng, arch: store.arch }),
  });
  made.set(ns, store);
  return ns;
}

/** Each namespace made here and its store: a reader given one binds only a namespace of its own kernel's store. */
const made = new WeakMap<object, DataStore>();

/** The store `ns` is a namespace of, if it is one made by createTimeNamespace (frozen: it cannot be pointed elsewhere). */
export function storeOfNamespace(ns: unknown): DataStore | undefined {
  return ns !== null && typeof ns === "object" ? made.get(ns) : undefined;
}
