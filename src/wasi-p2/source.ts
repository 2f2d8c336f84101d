/**
 * Which vDSO the WASI 0.2 interfaces (`wasm-vdso/wasi-p2/clocks`,
 * `wasm-vdso/wasi-p2/random`) read. One choice for both modules.
 *
 * WASI 0.2 calls are synchronous and a wasm vDSO instance is made
 * asynchronously, so the default (an exact host-call kernel and a reader of
 * it) is made when one of these modules is first imported, with a top-level
 * await; jco's output awaits its own instantiation the same way. It ticks once
 * a second on an unref'd timer (a process that has nothing else to do still
 * exits). `useKernel` swaps in another source and closes the default.
 */
import { Kernel } from "../kernel/kernel.ts";
import { createReader, Reader, type ReaderSource } from "../reader.ts";

/** What `useKernel` takes: a Kernel (this thread), a KernelWorker or `{ memory, view }`, or a Reader of any of them. */
export type WasiP2Source = ReaderSource | Reader;

interface Current {
  reader: Reader;
  /** What to undo when replaced: the readers and kernels this module made. */
  dispose?: () => void;
}

let current: Current | undefined;

/** The default: a host-call kernel (exact: resolution 1 ns, one host counter call per read) and its reader. */
async function makeDefault(): Promise<Current> {
  const k = await Kernel.create({ counter: "host-call" });
  const reader = await createReader(k);
  // The page stays fresh without keeping the process alive.
  const t: unknown = setInterval(() => k.tick(), 1000);
  (t as { unref?: () => void }).unref?.();
  return {
    reader,
    dispose: () => {
      clearInterval(t as ReturnType<typeof setInterval>);
      reader.close();
      k.close();
    },
  };
}

/** The reader the WASI interfaces read now. */
export function currentReader(): Reader {
  if (current === undefined) throw new Error("wasm-vdso/wasi-p2: no kernel (useKernel() is still making one)");
  return current.reader;
}

function swap(next: Current): void {
  const old = current;
  current = next;
  old?.dispose?.();
}

/**
 * Chooses the vDSO the WASI 0.2 clocks and random read: a `Reader` (used as
 * is, never closed here), or a source to make one of (a `Kernel`, a
 * `KernelWorker`, `{ memory, view }`). With no argument, back to the default
 * (a fresh host-call kernel). The previous choice is closed if this module
 * made it. Resolves once the new source is in use; a Reader is in use at
 * once, before the promise resolves.
 */
export async function useKernel(source?: WasiP2Source): Promise<void> {
  if (source === undefined) return swap(await makeDefault());
  if (source instanceof Reader) return swap({ reader: source });
  const reader = await createReader(source);
  swap({ reader, dispose: () => reader.close() });
}

// The default, made at import: a synchronous WASI call needs a reader ready.
current ??= await makeDefault();
