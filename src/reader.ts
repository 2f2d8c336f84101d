/**
 * A reader for any thread: the wasm vDSO on a shared memory written by a
 * kernel elsewhere (a KernelWorker, or a Kernel in another thread).
 */
import { CLOCK_AUX, CLOCK_AUX_LAST, EINVAL, ENODEV, ENOSYS, NO_PAGE, vdso_clock, vdso_clock_mode, vdso_time_data } from "../assembly/layout.ts";
import { hostClocksource } from "./kernel/clocksource.ts";
import { isInvalidClockId } from "./replay.ts";
import { type Syscalls, type View, Vdso } from "./wasm.ts";

/**
 * Where the vDSO falls back and the kernel is in another thread, the answer
 * comes from the page: EINVAL for ids the kernel does not know, ENODEV for a
 * disabled aux clock; anything else (CPU time, a stuck writer) is ENOSYS.
 */
class PageSyscalls implements Syscalls {
  constructor(private mode: (idx: number) => number) {}
  private answer(clock: number): number {
    if (isInvalidClockId(clock)) return -EINVAL;
    if (clock >= CLOCK_AUX && clock <= CLOCK_AUX_LAST && this.mode(clock - CLOCK_AUX) === vdso_clock_mode.NONE) return -ENODEV;
    return -ENOSYS;
  }
  clock_gettime(clock: number) {
    return this.answer(clock);
  }
  clock_getres(clock: number) {
    return this.answer(clock);
  }
  gettimeofday() {
    return -ENOSYS;
  }
}

/** A wasm vDSO reader bound to `view` in `memory`. */
export async function createReader(memory: WebAssembly.Memory, view: View): Promise<Vdso> {
  const host = hostClocksource();
  let vdso: Vdso | undefined;
  const realPage = view.real !== undefined && view.real !== NO_PAGE ? view.real : view.time;
  const mode = (idx: number) =>
    new DataView(vdso!.memory.buffer).getInt32(realPage + vdso_time_data.aux_clock_data + idx * vdso_clock.SIZE + vdso_clock.clock_mode, true);
  vdso = await Vdso.create({ counter: host.read, syscalls: new PageSyscalls(mode), memory });
  vdso.bind(view);
  return vdso;
}
