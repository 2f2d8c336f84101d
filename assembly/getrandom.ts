/**
 * vDSO getrandom (lib/vdso/getrandom.c): random bytes from ChaCha20 in user
 * code, keyed once per rng generation by the host. Each reader owns a
 * `struct vgetrandom_state`; a changed generation in the rng page (a reseed,
 * a snapshot restore, a fork-like event) forces a new key before any byte.
 */
import { chacha20_stream, counter_hi, counter_lo } from "./chacha";
import {
  CHACHA_BLOCK_SIZE, EFAULT, GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM, MAX_RW_COUNT, NO_PAGE, VGETRANDOM_MMAP_FLAGS,
  VGETRANDOM_MMAP_PROT, vdso_pages, vdso_rng_data, vgetrandom_opaque_params as params, vgetrandom_state as vs,
} from "./layout";
import { load_acquire } from "./seqlock";
import { state_ok, user_ok, vd_rng } from "./view";

/** The getrandom syscall: the host's secure source. Returns bytes written or a negated errno. */
@external("vdso", "sys_getrandom")
declare function sys_getrandom(buf: usize, len: usize, flags: u32): i64;


/** `memcpy_and_zero_src`: the bytes handed out do not stay in the batch. */
@inline
function copy_and_zero(dst: usize, src: usize, len: usize): void {
  memory.copy(dst, src, len);
  memory.fill(src, 0, len);
}

/**
 * `vgetrandom(buffer, len, flags, opaque_state, opaque_len)`: the kernel's
 * contract. Returns the number of bytes (at most MAX_RW_COUNT), or the
 * syscall's answer where the vDSO falls back.
 */
export function vgetrandom(buf: usize, len: usize, flags: u32, state: usize, opaque_len: usize): i64 {
  // The parameters query.
  if (buf == 0 && len == 0 && flags == 0 && opaque_len == <usize>-1) {
    if (!user_ok(state, params.SIZE)) return -EFAULT;
    store<u32>(state + params.size_of_opaque_state, vs.SIZE);
    store<u32>(state + params.mmap_prot, VGETRANDOM_MMAP_PROT);
    store<u32>(state + params.mmap_flags, VGETRANDOM_MMAP_FLAGS);
    memory.fill(state + params.reserved, 0, params.SIZE - params.reserved);
    return 0;
  }
  // A state may not straddle a page.
  if ((state & <usize>(vdso_pages.PAGE_SIZE - 1)) + <usize>vs.SIZE > <usize>vdso_pages.PAGE_SIZE) return -EFAULT;
  if (!state_ok(state, vs.SIZE) || (len != 0 && !user_ok(buf, len))) return -EFAULT;
  const rng = vd_rng;
  if (
    flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) ||
    opaque_len != vs.SIZE ||
    rng == <usize>NO_PAGE ||
    !load_acquire<u8>(rng + vdso_rng_data.is_ready) // before the generation load below (G1 in the litmus tests)
  )
    return sys_getrandom(buf, len, flags);
  if (len == 0) return 0;
  // Re-entrancy (a signal handler in Linux): the syscall serves the inner call.
  if (load<u8>(state + vs.in_use)) return sys_getrandom(buf, len, flags);
  store<u8>(state + vs.in_use, 1);
  if (len > <usize>MAX_RW_COUNT) len = MAX_RW_COUNT;
  const total = len;
  const orig = buf;

  for (let attempt = 0; ; attempt++) {
    const gen = atomic.load<u64>(rng + vdso_rng_data.generation);
    if (gen != load<u64>(state + vs.generation)) {
      // Record the generation before fetching the key, so a change during the fetch is seen.
      store<u64>(state + vs.generation, gen);
      if (sys_getrandom(state + vs.key, vs.KEY_SIZE, 0) != vs.KEY_SIZE) {
        store<u64>(state + vs.generation, 0);
        store<u8>(state + vs.in_use, 0);
        return sys_getrandom(orig, total, flags);
      }
      store<u8>(state + vs.pos, vs.BATCH_SIZE); // the batch is empty
    }
    buf = orig;
    len = total;
    // A fresh block counter per call, as the kernel's local `counter[2] = { 0 }`.
    counter_lo = 0;
    counter_hi = 0;
    for (;;) {
      // First the bytes left in the batch.
      const pos = <usize>load<u8>(state + vs.pos);
      const n = min<usize>(<usize>vs.BATCH_SIZE - pos, len);
      if (n) {
        copy_and_zero(buf, state + vs.batch + pos, n);
        store<u8>(state + vs.pos, <u8>(pos + n));
        buf += n;
        len -= n;
      }
      if (!len) break;
      // Whole blocks straight into the caller's buffer.
      const nblocks = len / CHACHA_BLOCK_SIZE;
      if (nblocks) {
        chacha20_stream(buf, state + vs.key, nblocks);
        buf += nblocks * CHACHA_BLOCK_SIZE;
        len -= nblocks * CHACHA_BLOCK_SIZE;
      }
      // Refill the batch, overwriting the key: fast key erasure.
      chacha20_stream(state + vs.batch_key, state + vs.key, (vs.BATCH_SIZE + vs.KEY_SIZE) / CHACHA_BLOCK_SIZE);
      store<u8>(state + vs.pos, 0);
    }
    // A reseed while we worked: these bytes may predate it. Start over once, then give up.
    if (atomic.load<u64>(rng + vdso_rng_data.generation) == load<u64>(state + vs.generation)) break;
    if (attempt >= 1) {
      store<u8>(state + vs.in_use, 0);
      return sys_getrandom(orig, total, flags);
    }
  }
  store<u8>(state + vs.in_use, 0);
  return <i64>total;
}
