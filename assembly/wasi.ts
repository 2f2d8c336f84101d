/**
 * WASI preview1 `clock_time_get`, `clock_res_get` and `random_get`, answered
 * by this vDSO. A guest whose memory is this module's memory can import these
 * exports directly: no JS on a call.
 */
import {
  CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE,
  CLOCK_THREAD_CPUTIME_ID, EFAULT, EINVAL, ENOSYS, LOW_RES_NSEC, NSEC_PER_SEC, reader_slot, vgetrandom_state, wasi_errno,
} from "./layout";
import { clock_getres, clock_gettime, fast_value } from "./gettimeofday";
import { vgetrandom } from "./getrandom";
import { slot, user_ok } from "./view";

// WASI errno values (layout.ts holds them)
const ERRNO_SUCCESS: u32 = wasi_errno.SUCCESS;
const ERRNO_FAULT: u32 = wasi_errno.FAULT;
const ERRNO_INVAL: u32 = wasi_errno.INVAL;
const ERRNO_IO: u32 = wasi_errno.IO;
const ERRNO_NOSYS: u32 = wasi_errno.NOSYS;
const ERRNO_OVERFLOW: u32 = wasi_errno.OVERFLOW;

// WASI clock ids
const WASI_REALTIME: u32 = 0;
const WASI_MONOTONIC: u32 = 1;
const WASI_PROCESS_CPUTIME: u32 = 2;
const WASI_THREAD_CPUTIME: u32 = 3;

/** A negated Linux errno to a WASI errno. */
function errno(ret: i64): u32 {
  if (ret == -EINVAL) return ERRNO_INVAL;
  if (ret == -EFAULT) return ERRNO_FAULT;
  if (ret == -ENOSYS) return ERRNO_NOSYS;
  return ERRNO_IO;
}

/** WASI clock id (and the precision the caller accepts) to a Linux clock, or -1. */
function linux_clock(id: u32, precision: u64): i32 {
  // A caller that accepts the tick's lag gets the coarse clock: no counter read.
  const coarse = precision >= <u64>LOW_RES_NSEC;
  if (id == WASI_REALTIME) return coarse ? CLOCK_REALTIME_COARSE : CLOCK_REALTIME;
  if (id == WASI_MONOTONIC) return coarse ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC;
  if (id == WASI_PROCESS_CPUTIME) return CLOCK_PROCESS_CPUTIME_ID;
  if (id == WASI_THREAD_CPUTIME) return CLOCK_THREAD_CPUTIME_ID;
  return -1;
}

/** `clock_time_get(id, precision, *time)`: ns since the clock's epoch as u64. */
export function wasi_clock_time_get(id: u32, precision: u64, out: usize): u32 {
  if (!user_ok(out, 8)) return ERRNO_FAULT;
  const clock = linux_clock(id, precision);
  if (clock < 0) return ERRNO_INVAL;
  const v = fast_value(clock);
  if (v >= 0) {
    store<u64>(out, <u64>v);
    return ERRNO_SUCCESS;
  }
  const ts = slot + reader_slot.result;
  if (slot == 0) return ERRNO_FAULT;
  const ret = clock_gettime(clock, ts);
  if (ret != 0) return errno(ret);
  const sec = load<i64>(ts);
  if (sec < 0) return ERRNO_INVAL; // a WASI timestamp cannot be before its epoch
  store<u64>(out, <u64>sec * NSEC_PER_SEC + load<u64>(ts, 8));
  return ERRNO_SUCCESS;
}

/** `clock_res_get(id, *resolution)`: the resolution actually delivered. */
export function wasi_clock_res_get(id: u32, out: usize): u32 {
  if (!user_ok(out, 8)) return ERRNO_FAULT;
  const clock = linux_clock(id, 0);
  if (clock < 0) return ERRNO_INVAL;
  const ts = slot + reader_slot.result;
  if (slot == 0) return ERRNO_FAULT;
  const ret = clock_getres(clock, ts);
  if (ret != 0) return errno(ret);
  store<u64>(out, <u64>load<i64>(ts) * NSEC_PER_SEC + load<u64>(ts, 8));
  return ERRNO_SUCCESS;
}

/**
 * `random_get(buf, len)`: vgetrandom with this reader's state, until `len`
 * bytes are written. The whole range is checked before any byte is written:
 * a `len` whose i32 is negative (2^31 or more) is `overflow` (61), a range
 * outside user memory or this reader's own slot (the store, another reader's
 * slot, the module's data, past the end of memory) is `fault` (21). The
 * peers differ: node:wasi answers `overflow` for any range outside memory;
 * browser_wasi_shim writes the part inside memory and answers success (0),
 * and with a negative len writes nothing and answers success.
 */
export function wasi_random_get(buf: usize, len: usize): u32 {
  if (<i32>len < 0) return ERRNO_OVERFLOW;
  if (len != 0 && !user_ok(buf, len)) return ERRNO_FAULT;
  if (slot == 0) return ERRNO_FAULT;
  const state = slot + reader_slot.getrandom_state;
  while (len > 0) {
    const n = vgetrandom(buf, len, 0, state, vgetrandom_state.SIZE);
    if (n <= 0) return n == 0 ? ERRNO_IO : errno(n);
    buf += <usize>n;
    len -= <usize>n;
  }
  return ERRNO_SUCCESS;
}

/** clock_time_get returning the timestamp itself (for a provider in another memory), or -(WASI errno). */
export function wasi_time_ns(id: u32, precision: u64): i64 {
  const out = slot + reader_slot.result + 16;
  const err = wasi_clock_time_get(id, precision, out);
  return err ? -(<i64>err) : load<i64>(out);
}
