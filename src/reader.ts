/**
 * A reader for any thread: the wasm vDSO on a shared memory written by a
 * kernel elsewhere (a KernelWorker, or a Kernel in another thread).
 */
import { NO_PAGE, vdso_clock, vdso_time_data } from "../assembly/layout.ts";
import { hostClocksource } from "./kernel/clocksource.ts";
import { PageSyscalls } from "./pagesyscalls.ts";
import { type View, Vdso } from "./wasm.ts";

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
