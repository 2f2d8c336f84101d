/**
 * The vDSO data store, byte for byte as Linux 6.17+ lays it out on x86_64
 * (include/vdso/datapage.h). The only place an offset or a constant is written:
 * AssemblyScript (assembly/) and TypeScript (src/) both compile this file, so it
 * sticks to their common subset: numeric enums and integer consts.
 */

/** Pages of the generic data store (`enum vdso_pages`), in page units. */
export enum vdso_pages {
  PAGE_SIZE = 4096,
  /** `struct vdso_time_data`, or a task's time-namespace page. */
  VDSO_TIME_PAGE_OFFSET = 0,
  /** The real `vdso_time_data`, mapped here only for a task in a time namespace. */
  VDSO_TIMENS_PAGE_OFFSET = 1,
  /** `struct vdso_rng_data`. */
  VDSO_RNG_PAGE_OFFSET = 2,
  /** Architecture data; empty on x86, this emulator keeps its counter word here. */
  VDSO_ARCH_PAGES_START = 3,
  VDSO_ARCH_PAGES_END = 3,
  VDSO_NR_PAGES = 4,
  /** `[vvar_vclock]`, the mapping after `[vvar]` on x86. */
  VDSO_PAGE_PVCLOCK_OFFSET = 0,
  VDSO_PAGE_HVCLOCK_OFFSET = 1,
  VDSO_NR_VCLOCK_PAGES = 2,
}

/** Clock ids (UAPI). */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
export const CLOCK_SGI_CYCLE = 10;
export const CLOCK_TAI = 11;
export const MAX_CLOCKS = 16;
export const CLOCK_AUX = MAX_CLOCKS;
export const MAX_AUX_CLOCKS = 8;
export const CLOCK_AUX_LAST = CLOCK_AUX + MAX_AUX_CLOCKS - 1;

/** Clock families, tested as `1 << clock`. */
export const VDSO_HRES =
  (1 << CLOCK_REALTIME) | (1 << CLOCK_MONOTONIC) | (1 << CLOCK_BOOTTIME) | (1 << CLOCK_TAI);
export const VDSO_COARSE = (1 << CLOCK_REALTIME_COARSE) | (1 << CLOCK_MONOTONIC_COARSE);
export const VDSO_RAW = 1 << CLOCK_MONOTONIC_RAW;
export const VDSO_AUX = ((1 << MAX_AUX_CLOCKS) - 1) << CLOCK_AUX;

/** `basetime[]` has one slot per clock id up to CLOCK_TAI; aux clocks use slot 0. */
export const VDSO_BASES = CLOCK_TAI + 1;
export const VDSO_BASE_AUX = 0;

/** Index of `clock_data[]`: hres and coarse clocks, and the raw clock. */
export const CS_HRES_COARSE = 0;
export const CS_RAW = 1;
export const CS_BASES = 2;

/**
 * `vdso_clock.clock_mode`. 1..3 are x86's; 4 and 5 are this emulator's
 * "architecture": a memory-mapped counter, as a timer register would be.
 */
export enum vdso_clock_mode {
  /** No vDSO counter: readers take the syscall. */
  NONE = 0,
  /** x86 TSC. Here the host-call mode: the counter comes from the `rdtsc` import. */
  TSC = 1,
  /** x86 KVM/Xen pvclock page (`[vvar_vclock]` page 0), scaled from `rdtsc`. */
  PVCLOCK = 2,
  /** x86 Hyper-V TSC page (`[vvar_vclock]` page 1), scaled from `rdtsc`. */
  HVCLOCK = 3,
  /** Shared counter: the arch page's counter word, kept current by a ticker. One load, no host call. */
  SHARED_COUNTER = 4,
  /** Virtual: the same word, advanced only when the host says so (deterministic time). */
  VIRTUAL = 5,
  /** The time-namespace page (INT_MAX). */
  TIMENS = 0x7fffffff,
}

/** `struct vdso_timestamp` (and `struct timens_offset`, same bytes). */
export enum vdso_timestamp {
  sec = 0,
  nsec = sec + 8,
  SIZE = nsec + 8,
}

/** `struct vdso_clock`, with `max_cycles` (x86 selects GENERIC_VDSO_OVERFLOW_PROTECT). */
export enum vdso_clock {
  /** Seqlock counter: odd while the writer is updating this clock. */
  seq = 0,
  clock_mode = seq + 4,
  /** Counter value at the last update; the basetimes are the time at this count. */
  cycle_last = clock_mode + 4,
  /** Largest delta for which `delta * mult` cannot overflow u64. */
  max_cycles = cycle_last + 8,
  mask = max_cycles + 8,
  mult = mask + 8,
  shift = mult + 4,
  /** `basetime[VDSO_BASES]`, or `offset[VDSO_BASES]` in a namespace page. */
  basetime = shift + 4,
  SIZE = basetime + VDSO_BASES * vdso_timestamp.SIZE,
}

/** `struct vdso_time_data` (page 0); x86 has no `arch_data` in it. */
export enum vdso_time_data {
  clock_data = 0,
  aux_clock_data = clock_data + CS_BASES * vdso_clock.SIZE,
  tz_minuteswest = aux_clock_data + MAX_AUX_CLOCKS * vdso_clock.SIZE,
  tz_dsttime = tz_minuteswest + 4,
  hrtimer_res = tz_dsttime + 4,
  __unused = hrtimer_res + 4,
  END = __unused + 4,
  /** `____cacheline_aligned`: rounded up to 64 bytes. */
  SIZE = (END + 63) & ~63,
}

/** `struct vdso_rng_data` (page 2). */
export enum vdso_rng_data {
  generation = 0,
  is_ready = generation + 8,
}

/** This emulator's arch page (page 3). */
export enum vdso_arch_data {
  /** u64 counter read by modes SHARED_COUNTER and VIRTUAL. */
  counter = 0,
  /** u64: the ticker's measured update period in ns (its honest resolution). */
  period_ns = counter + 8,
  /** u64: updates the ticker made. */
  ticks = period_ns + 8,
  /** i32: set to 1 to stop the ticker. */
  ticker_stop = ticks + 8,
  /** u32: the writer's claim on this store, 0 while no kernel writes it, else its fencing token: every adoption moves it on by one (compare-and-swap), and a writer whose token it no longer is never writes again. */
  writer = ticker_stop + 4,
  /** i32: the writer's state: 0 no writer yet, 1 running, 2 closed (see writer_state). */
  state = writer + 4,
  /** u32: namespace pages the writer has handed out after the four store pages (a kernel that adopts the store keeps them). */
  ns_pages = state + 4,
  /** u64: the heartbeat: publications so far... */
  publications = ns_pages + 4,
  /** u64: ...and the writer's host clock (ns) at its last heartbeat (every 100 ms, ticking or not), so a reader or an adopter can tell a live writer from a gone one. */
  heartbeat_ns = publications + 8,
  /** s64 x 9: NTP's frequency (time_freq, scaled ns) of the core timekeeper, then of each aux clock: a kernel that adopts the store keeps steering at it. */
  ntp_freq = heartbeat_ns + 8,
  /**
   * A copy of the time page, each vdso_clock block under its own seq, made
   * after every complete publication: when the writer dies inside an update,
   * each block's newest whole copy (page or shadow) is the last consistent
   * state, which readers carry forward and a new kernel adopts.
   */
  shadow = 128,
  /** u64: while ADOPTING, how long (host ns) the old writer was gone when the adopter won: readers carry forward by exactly this much until it publishes. */
  gone_ns = shadow + vdso_time_data.SIZE,
  END = gone_ns + 8,
}

/** `vdso_arch_data.state`. */
export enum writer_state {
  NONE = 0,
  RUNNING = 1,
  CLOSED = 2,
  /** A kernel has won the store and is starting on it (`gone_ns` frozen meanwhile). */
  ADOPTING = 3,
}

/** `struct vgetrandom_state` (144 bytes on x86_64). */
export enum vgetrandom_state {
  /** batch[96] then key[32]: one 128-byte union refilled by two ChaCha blocks. */
  batch_key = 0,
  batch = 0,
  BATCH_SIZE = 96,
  key = 96,
  KEY_SIZE = 32,
  generation = 128,
  pos = 136,
  in_use = 137,
  SIZE = 144,
}

/** `struct vgetrandom_opaque_params`, the answer to the parameters query. */
export enum vgetrandom_opaque_params {
  size_of_opaque_state = 0,
  mmap_prot = 4,
  mmap_flags = 8,
  reserved = 12,
  SIZE = 64,
}
/** PROT_READ | PROT_WRITE, and MAP_DROPPABLE | MAP_ANONYMOUS (the live kernel's answer). */
export const VGETRANDOM_MMAP_PROT = 0x3;
export const VGETRANDOM_MMAP_FLAGS = 0x28;
export const GRND_NONBLOCK = 1;
export const GRND_RANDOM = 2;
export const GRND_INSECURE = 4;
/** `MAX_RW_COUNT` = INT_MAX & PAGE_MASK. */
export const MAX_RW_COUNT = 0x7ffff000;
export const CHACHA_BLOCK_SIZE = 64;

/** `struct pvclock_vcpu_time_info`, at the start of the pvclock page. */
export enum pvclock_vcpu_time_info {
  version = 0,
  tsc_timestamp = version + 8,
  system_time = tsc_timestamp + 8,
  tsc_to_system_mul = system_time + 8,
  tsc_shift = tsc_to_system_mul + 4,
  flags = tsc_shift + 1,
}
export const PVCLOCK_TSC_STABLE_BIT = 1;

/** `struct ms_hyperv_tsc_page`, at the start of the Hyper-V TSC page. */
export enum ms_hyperv_tsc_page {
  tsc_sequence = 0,
  tsc_scale = 8,
  tsc_offset = 16,
}

/** Time constants. LOW_RES_NSEC is TICK_NSEC at HZ=250, compiled into the vDSO. */
export const NSEC_PER_SEC = 1000000000;
export const NSEC_PER_USEC = 1000;
export const HZ = 250;
// `| 0` keeps TypeScript's division integral, as AssemblyScript's is.
export const LOW_RES_NSEC = ((NSEC_PER_SEC + (HZ >> 1)) / HZ) | 0;

/** WASI preview1 errno values, as the WASI exports answer them. */
export enum wasi_errno {
  SUCCESS = 0,
  FAULT = 21,
  INVAL = 28,
  IO = 29,
  NOSYS = 52,
  OVERFLOW = 61,
}

/** Errors returned (negated) by the syscall fallback. */
export const ENOSYS = 38;
export const EINVAL = 22;
export const EFAULT = 14;
export const ENODEV = 19;
export const ERANGE = 34;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;

/**
 * Where data stores live in wasm memory. Wasm has no MMU, so instead of
 * mappings a reader is bound to pages in [STORE_START, STORE_END): the linker
 * puts AssemblyScript's static data and heap at STORE_END (asconfig
 * `memoryBase`), so nothing else can overlap the pages. Page 0 stays empty so
 * that address 0 can mean NULL.
 */
export const STORE_START = vdso_pages.PAGE_SIZE;
export const STORE_END = 1048576;
/** A view's page that is not mapped (touching it would be SIGBUS). */
export const NO_PAGE = -1;
/**
 * After the store: one slot per reader instance, so that readers sharing one
 * memory never share a buffer (a result, a getrandom state). Slot 0 is the
 * allocation table (the host's bitmap of slots in use), never a reader's:
 * `set_slot` refuses it. Slots are 512 bytes, so none straddles a page.
 */
export const READER_SLOTS = STORE_END;
export const READER_SLOT_SIZE = 512;
export const MAX_READER_SLOTS = 1024;

/** Inside a reader slot. */
export enum reader_slot {
  /** The last result (a timespec, a WASI timestamp). */
  result = 0,
  /** This reader's `struct vgetrandom_state`. */
  getrandom_state = 64,
  /** u32: how often this reader gave up waiting for an even seq (a stuck or dead writer). */
  give_ups = 208,
  /** u32: how often this reader had to wait for a writer at all. */
  waits = 212,
  /** [u32 address, u32 odd value] x STUCK_WORDS: the seq words this reader gave up on, and at which value. */
  stuck = 216,
  STUCK_WORDS = 5,
  /** Bytes of random_get on their way to another memory. */
  chunk = 256,
  CHUNK_SIZE = 512 - 256,
}
/** Where AssemblyScript's static data begins (asconfig `memoryBase`; a test holds them equal). */
export const DATA_START = READER_SLOTS + MAX_READER_SLOTS * READER_SLOT_SIZE;
/**
 * User memory: everything from here (2 MiB) to the end of memory. Below it lie
 * the store, the reader slots and the module's static data (a test holds its
 * end below this). An export writes only into user memory or into the
 * calling instance's own reader slot; any other pointer gets -EFAULT.
 */
export const USER_START = 2097152;

/** `struct __kernel_timespec` / `struct __kernel_old_timeval` / `struct timezone`. */
export const TIMESPEC_SIZE = 16;
export const TIMEVAL_SIZE = 16;
export const TIMEZONE_SIZE = 8;
