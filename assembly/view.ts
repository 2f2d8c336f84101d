/**
 * The pages a reader is bound to. Wasm has no MMU: binding a view stands in for
 * the kernel mapping `[vvar]` and `[vvar_vclock]` into a task. Every bound
 * page lies inside the store region, so reads can never leave it; before the
 * first bind, page 0 is UNBOUND, a static page of the module's own.
 */
import {
  CS_BASES, DATA_START, MAX_AUX_CLOCKS, NO_PAGE, READER_SLOT_SIZE, READER_SLOTS, STORE_END, STORE_START, USER_START, vdso_clock,
  reader_slot, vdso_clock_mode, vdso_pages, vdso_time_data,
} from "./layout";

/**
 * Page 0 before any bind: every clock looks like a namespace page's (odd seq,
 * mode TIMENS) and there is no real page, so every read takes the syscall
 * rather than reading memory that is not a data page. It is static data of
 * the module, never written after start.
 */
const UNBOUND = memory.data(vdso_time_data.SIZE, 64);
for (let i = 0; i < CS_BASES + MAX_AUX_CLOCKS; i++) {
  const vc = UNBOUND + vdso_time_data.clock_data + i * vdso_clock.SIZE;
  store<u32>(vc + vdso_clock.seq, 1);
  store<i32>(vc + vdso_clock.clock_mode, vdso_clock_mode.TIMENS);
}

/** Page 0: `vdso_time_data`, or the namespace page of a task in a time namespace. */
export let vd_time: usize = UNBOUND;
/** Page 1: the real `vdso_time_data` for a namespaced task, else NO_PAGE. */
export let vd_real: usize = <usize>NO_PAGE;
/** Page 2: `vdso_rng_data`. */
export let vd_rng: usize = <usize>NO_PAGE;
/** Page 3: the arch page (this emulator's counter word). */
export let vd_arch: usize = <usize>NO_PAGE;
/**
 * How many clock modes read the arch page's counter word: 2 (SHARED_COUNTER
 * and VIRTUAL, consecutive) while an arch page is bound, else 0. Set with
 * vd_arch, so the read path tests mode and page in one compare.
 */
export let arch_modes: u32 = 0;
/** `[vvar_vclock]` page 0: the pvclock page. */
export let vd_pvclock: usize = <usize>NO_PAGE;
/** `[vvar_vclock]` page 1: the Hyper-V TSC page. */
export let vd_hvclock: usize = <usize>NO_PAGE;

/** A page address is acceptable if absent, or aligned and inside the store region. */
function page_ok(p: usize): bool {
  if (p == <usize>NO_PAGE) return true;
  if (p & (vdso_pages.PAGE_SIZE - 1)) return false;
  if (p < <usize>STORE_START || p > <usize>STORE_END - vdso_pages.PAGE_SIZE) return false;
  return p + vdso_pages.PAGE_SIZE <= (<usize>memory.size() << 16);
}

/**
 * Binds the reader to a view; returns 0, or -1 leaving the old view if a page
 * is bad. `time` = 0 unbinds (a closed reader): every call takes the syscall.
 */
export function bind(time: usize, real: usize, rng: usize, arch: usize, pvclock: usize, hvclock: usize): i32 {
  if (time == 0) {
    vd_time = UNBOUND;
    vd_real = vd_rng = vd_arch = vd_pvclock = vd_hvclock = <usize>NO_PAGE;
    arch_modes = 0;
    return 0;
  }
  if (time == <usize>NO_PAGE) return -1;
  if (!page_ok(time) || !page_ok(real) || !page_ok(rng) || !page_ok(arch) || !page_ok(pvclock) || !page_ok(hvclock))
    return -1;
  vd_hvclock = hvclock;
  vd_time = time;
  vd_real = real;
  vd_rng = rng;
  vd_arch = arch;
  arch_modes = arch == <usize>NO_PAGE ? 0 : 2;
  vd_pvclock = pvclock;
  return 0;
}

/**
 * The memory's size as last seen. `memory.size` on a shared memory is a slow
 * read (another thread may grow it); memory never shrinks, so a cached size
 * is a safe lower bound, refreshed only when a pointer seems to pass it.
 */
let known_size: usize = 0;

@inline
function memory_holds(end: usize): bool {
  if (end <= known_size) return true;
  known_size = <usize>memory.size() << 16;
  return end <= known_size;
}

/** This instance's result slot (see READER_SLOTS), 0 until set_slot: the only memory below USER_START an export writes. */
export let slot: usize = 0;

/**
 * A result pointer is good (else -EFAULT) if all of `[p, p + size)` lies in
 * user memory `[USER_START, end of memory)`, or entirely inside this
 * instance's own slot: never the store, another reader's slot or the
 * module's static data. The user-memory test comes first: it is a wasm
 * caller's case, and one compare when the cached size covers it.
 */
@inline
export function user_ok(p: usize, size: usize): bool {
  if (p >= <usize>USER_START) return p + size > p && memory_holds(p + size);
  return in_own_slot(p, size);
}

/** A getrandom state `size` bytes long: in user memory, or exactly this slot's own state. */
export function state_ok(p: usize, size: usize): bool {
  if (p >= <usize>USER_START) return user_ok(p, size);
  return slot != 0 && p == slot + <usize>reader_slot.getrandom_state;
}

/**
 * `[p, p + size)` inside this slot's result area or its chunk area (never its
 * getrandom state or counters), written so that nothing can wrap. A `p`
 * below the slot makes `off` wrap past every bound below, so it needs no
 * test of its own (one compare fewer on the JS callers' path).
 */
@inline
function in_own_slot(p: usize, size: usize): bool {
  const s = slot;
  if (s == 0 || size > <usize>READER_SLOT_SIZE) return false;
  const off = p - s;
  if (size <= <usize>reader_slot.getrandom_state && off <= <usize>reader_slot.getrandom_state - size) return true;
  return off >= <usize>reader_slot.chunk && size <= <usize>reader_slot.CHUNK_SIZE && off <= <usize>READER_SLOT_SIZE - size;
}

/**
 * Sets the result slot: 0, or -1 (the slot unchanged) unless `p` is a
 * slot-aligned address in `[READER_SLOTS + READER_SLOT_SIZE, DATA_START)`
 * (slot 0 is the host's allocation table). The region lies inside the
 * module's initial memory, which an imported memory cannot be smaller than.
 * `p` = 0 unsets the slot for good (a closed reader): the exports then have
 * no memory below USER_START to write, and those that need a slot give
 * -EFAULT. A slot is set once: an instance cannot be moved onto another's.
 */
let slot_used = false;
export function set_slot(p: usize): i32 {
  if (p == 0) {
    slot = 0;
    slot_used = true;
    return 0;
  }
  if (slot_used) return -1;
  const first = <usize>READER_SLOTS + <usize>READER_SLOT_SIZE;
  if (p < first || p > <usize>DATA_START - <usize>READER_SLOT_SIZE) return -1;
  if ((p - <usize>READER_SLOTS) & (<usize>READER_SLOT_SIZE - 1)) return -1;
  slot = p;
  slot_used = true;
  return 0;
}
