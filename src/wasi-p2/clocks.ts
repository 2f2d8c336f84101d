/**
 * WASI 0.2 `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock` for jco,
 * read by the wasm vDSO:
 *
 *   jco transpile component.wasm -o out \
 *     --map 'wasi:clocks/*=wasm-vdso/wasi-p2/clocks#*' \
 *     --map 'wasi:random/*=wasm-vdso/wasi-p2/random#*'
 *
 * The wall clock is to the nanosecond (jco's own is whole milliseconds).
 * Pollables (`subscribe-instant`, `subscribe-duration`) are
 * `@bytecodealliance/preview2-shim`'s own, so the shim's `wasi:io/poll` blocks
 * on them; they are timed by the host for the duration asked (an instant is
 * turned into a duration with this module's monotonic clock).
 */
import { monotonicClock as shimMonotonic } from "@bytecodealliance/preview2-shim/clocks";
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from "../../assembly/layout.ts";
import { currentReader } from "./source.ts";

export { useKernel, type WasiP2Source } from "./source.ts";

/** wasi:clocks/wall-clock `datetime`. */
export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

type Pollable = ReturnType<typeof shimMonotonic.subscribeDuration>;

const NSEC = 1_000_000_000n;
const U64 = (1n << 64n) - 1n;

function fail(what: string, ret: number): never {
  throw new Error(`wasm-vdso/wasi-p2: ${what} failed (errno ${-ret})`);
}

/** A clock's reading as a timespec; a WASI time cannot fail, so an error throws (a trap for the component). */
function read(clock: number, what: string) {
  const r = currentReader().clockGettime(clock);
  if (r.ret !== 0 || r.ts === undefined) fail(what, r.ret);
  return r.ts;
}

function res(clock: number, what: string) {
  const r = currentReader().clockGetres(clock);
  if (r.ret !== 0 || r.ts === undefined) fail(what, r.ret);
  return r.ts;
}

/** The instant (u64 ns) a WASI caller passed: a bigint, or a safe-integer number. */
function u64(v: bigint | number, name: string): bigint {
  const b = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : NaN;
  if (typeof b !== "bigint" || b < 0n || b > U64) throw new TypeError(`wasm-vdso/wasi-p2: ${name} must be a u64, not ${String(v)}`);
  return b;
}

export const monotonicClock = {
  /** Nanoseconds of CLOCK_MONOTONIC (the vDSO's, from its kernel's boot). */
  now(): bigint {
    const t = currentReader().nowNs(CLOCK_MONOTONIC);
    if (t < 0n) fail("monotonic-clock now", Number(t));
    return t;
  },
  /** The resolution the reader really delivers (1 ns for host-call and virtual kernels). */
  resolution(): bigint {
    const ts = res(CLOCK_MONOTONIC, "monotonic-clock resolution");
    return ts.sec * NSEC + ts.nsec;
  },
  /** A pollable ready once this clock reads `instant` (timed by the host for `instant - now()`). */
  subscribeInstant(instant: bigint): Pollable {
    const d = u64(instant, "instant") - monotonicClock.now();
    return shimMonotonic.subscribeDuration(d > 0n ? d : 0n);
  },
  /** A pollable ready after `duration` ns: the shim's own, so its wasi:io/poll can block on it. */
  subscribeDuration(duration: bigint): Pollable {
    return shimMonotonic.subscribeDuration(u64(duration, "duration"));
  },
};

export const wallClock = {
  /** CLOCK_REALTIME to the nanosecond. */
  now(): Datetime {
    const ts = read(CLOCK_REALTIME, "wall-clock now");
    if (ts.sec < 0n) throw new RangeError(`wasm-vdso/wasi-p2: wall-clock now is before 1970 (${ts.sec} s), not a WASI datetime`);
    return { seconds: ts.sec, nanoseconds: Number(ts.nsec) };
  },
  resolution(): Datetime {
    const ts = res(CLOCK_REALTIME, "wall-clock resolution");
    return { seconds: ts.sec, nanoseconds: Number(ts.nsec) };
  },
};
