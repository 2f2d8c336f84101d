/**
 * Programs that compile the reader in: an AssemblyScript module built against
 * `wasm-vdso/assembly/lib` with `assembly/asconfig.lib.json` reads time
 * inlined into its own code. `instantiateProgram` is its host: it answers the
 * module's imports (the store's memory, the counter, the syscalls), claims it
 * a reader slot and binds it to a view, as `createReader` does for this
 * package's own module.
 */
import { NO_PAGE, USER_START } from "../assembly/layout.ts";
import { checkView, type View } from "./datastore.ts";
import { hostClocksource } from "./kernel/clocksource.ts";
import type { Kernel } from "./kernel/kernel.ts";
import type { TimeNamespace } from "./kernel/timens.ts";
import { PageSyscalls } from "./pagesyscalls.ts";
import { kernelNamespace, kernelSyscalls, type ReaderSource } from "./reader.ts";
import { claimSlot, releaseSlot, slotAddr, type Syscalls, vdsoImports } from "./wasm.ts";

export interface ProgramOptions {
  /** Read as a task in this time namespace (a Kernel source only; else pass its view). */
  ns?: TimeNamespace | null;
  /** The program's other imports; "vdso" and `env.memory` are this host's. */
  imports?: WebAssembly.Imports;
}

/** The exports every such program has (`export { bind, set_slot } from "wasm-vdso/assembly/lib"`). */
interface Binding {
  bind(time: number, real: number, rng: number, arch: number, pvclock: number, hvclock: number): number;
  set_slot(p: number): number;
}

const isKernel = (s: ReaderSource): s is Kernel => typeof (s as Kernel).sysClockGettime === "function";

/** The slot each instance holds, given back by `closeProgram` or when the instance is collected. */
const slots = new WeakMap<WebAssembly.Instance, { memory: WebAssembly.Memory; idx: number }>();
const slotsOfDropped = new FinalizationRegistry<{ memory: WebAssembly.Memory; idx: number }>((s) => releaseSlot(s.memory, s.idx));

/**
 * Instantiates `program` (its bytes, or a compiled module) on the store of
 * `source`: a Kernel in this thread (optionally as a task in `opts.ns`), or
 * `{ memory, view }` of a store anywhere (a KernelWorker's). The counter and
 * the syscalls are the kernel's, or for a store the host clock and what the
 * page itself answers. Returns the instance, bound and with its own slot.
 *
 * From bytes, the program is checked first: it must import `env.memory`
 * (shared exactly when the store's memory is) and put its static data at
 * `layout.USER_START` or above; the memory is grown to the program's initial
 * size. A compiled module is instantiated as it is: the memory must already
 * be that large.
 */
export async function instantiateProgram(
  program: BufferSource | WebAssembly.Module,
  source: ReaderSource,
  opts: ProgramOptions = {},
): Promise<WebAssembly.Instance> {
  if (source === null || typeof source !== "object") throw new TypeError("wasm-vdso: instantiateProgram needs a Kernel or { memory, view }");
  if (opts === null || typeof opts !== "object") throw new TypeError("wasm-vdso: instantiateProgram options must be an object");
  let memory: WebAssembly.Memory, view: View, counter: () => bigint, syscalls: Syscalls;
  const nsOpt = opts.ns ?? null;
  if (isKernel(source)) {
    const ns = kernelNamespace(source, nsOpt);
    memory = source.memory;
    view = ns ? ns.view : source.rootView();
    counter = source.cs.read.bind(source.cs);
    syscalls = kernelSyscalls(source, ns);
  } else {
    if (nsOpt) throw new TypeError("wasm-vdso: ns is for a Kernel source; for a store, pass the namespace's view");
    memory = source.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new TypeError("wasm-vdso: source.memory must be a WebAssembly.Memory");
    view = checkView(source.view, "source.view");
    counter = hostClocksource().read;
    syscalls = new PageSyscalls(memory, view, counter);
  }

  let module: WebAssembly.Module;
  if (program instanceof WebAssembly.Module) {
    module = program;
  } else {
    const bytes = ArrayBuffer.isView(program) ? new Uint8Array(program.buffer, program.byteOffset, program.byteLength) : new Uint8Array(program);
    module = await WebAssembly.compile(bytes);
    fitMemory(memory, checkProgram(bytes));
  }

  const host = { counter, syscalls, hostRandomCalls: 0 };
  const ours = vdsoImports(memory, () => host);
  const theirs = opts.imports ?? {};
  if (theirs.env?.memory !== undefined && theirs.env.memory !== memory) throw new TypeError("wasm-vdso: env.memory is the store's memory; leave it out of imports");
  const imports = { ...theirs, vdso: { ...theirs.vdso, ...ours.vdso }, env: { ...ours.env, ...theirs.env, memory } };
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, imports);
  } catch (e) {
    if (e instanceof WebAssembly.LinkError && program instanceof WebAssembly.Module) {
      throw new WebAssembly.LinkError(`${e.message} (a compiled module is instantiated unchecked, on the memory as it is: pass the program's bytes to have it checked and the memory grown)`);
    }
    throw e;
  }

  const b = instance.exports as unknown as Partial<Binding>;
  if (typeof b.bind !== "function" || typeof b.set_slot !== "function") {
    throw new TypeError('wasm-vdso: the program must export bind and set_slot (export { bind, set_slot } from "wasm-vdso/assembly/lib")');
  }
  const idx = claimSlot(memory);
  const p = (a: number | undefined) => (a === undefined ? NO_PAGE : a);
  if (b.set_slot(slotAddr(idx)) !== 0 || view.time === 0 || b.bind(view.time, p(view.real), p(view.rng), p(view.arch), p(view.pvclock), p(view.hvclock)) !== 0) {
    b.set_slot(0);
    releaseSlot(memory, idx);
    throw new RangeError(`wasm-vdso: view ${JSON.stringify(view)} is not inside the page store`);
  }
  slots.set(instance, { memory, idx });
  slotsOfDropped.register(instance, { memory, idx }, instance);
  return instance;
}

/**
 * Gives a program's slot back (it is also given back when the instance is
 * collected). The instance stays usable but unbound: its reads take the
 * syscall, and those that need its slot answer -EFAULT.
 */
export function closeProgram(instance: WebAssembly.Instance): void {
  const s = slots.get(instance);
  if (!s) return;
  slots.delete(instance);
  slotsOfDropped.unregister(instance);
  const b = instance.exports as unknown as Binding;
  b.set_slot(0);
  b.bind(0, NO_PAGE, NO_PAGE, NO_PAGE, NO_PAGE, NO_PAGE);
  releaseSlot(s.memory, s.idx);
}

/** What a program's bytes say about the memory it imports. */
interface MemoryImport {
  min: number;
  max?: number;
  shared: boolean;
}

/**
 * Reads the program's `env.memory` import and its active data segments;
 * throws unless it imports the memory and its data lies in user memory (a
 * segment below USER_START would overwrite the store, the slots or this
 * package's module data when it is instantiated).
 */
function checkProgram(bytes: Uint8Array): MemoryImport {
  let p = 8;
  const u32 = (): number => {
    let r = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++];
      r += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return r;
    }
  };
  const i32 = (): number => {
    let r = 0, shift = 0, b: number;
    do {
      b = bytes[p++];
      r |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? r | (-1 << shift) : r;
  };
  const name = () => {
    const n = u32();
    p += n;
    return new TextDecoder().decode(bytes.subarray(p - n, p));
  };
  const limits = () => {
    const flags = bytes[p++];
    const min = u32();
    return { min, max: flags & 1 ? u32() : undefined, shared: (flags & 2) !== 0 };
  };
  let mem: MemoryImport | undefined;
  const segments: number[] = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const mod = name(), field = name(), kind = bytes[p++];
        if (kind === 0) {
          u32(); // a function's type
        } else if (kind === 1) {
          p++; // a table's element type, then its limits
          limits();
        } else if (kind === 2) {
          const l = limits();
          if (mod === "env" && field === "memory") mem = l;
        } else if (kind === 3) {
          p += 2; // a global's number type and mutability (AssemblyScript imports no reference-typed global)
        } else if (kind === 4) {
          p++; // a tag's attribute, then its type
          u32();
        } else {
          throw new TypeError(`wasm-vdso: unknown import kind ${kind}`);
        }
      }
    } else if (id === 11) {
      for (let n = u32(); n > 0; n--) {
        const flags = u32();
        if (flags !== 1) {
          if (flags === 2) u32();
          if (bytes[p++] !== 0x41) throw new TypeError("wasm-vdso: the program places data at a computed address; it must be at a fixed one from layout.USER_START (memoryBase)");
          segments.push(i32() >>> 0);
          p++; // end
        }
        const len = u32(); // (not `p += u32()`: that adds to p as it was before the read)
        p += len;
      }
    }
    p = end;
  }
  if (!mem) throw new TypeError("wasm-vdso: the program does not import env.memory (build it with assembly/asconfig.lib.json)");
  const low = segments.find((a) => a < USER_START);
  if (low !== undefined) throw new RangeError(`wasm-vdso: the program's static data starts at ${low}, below layout.USER_START (${USER_START}): build it with assembly/asconfig.lib.json (memoryBase ${USER_START})`);
  return mem;
}

/** Grows the store's memory to the program's initial size, and says plainly what cannot link. */
function fitMemory(memory: WebAssembly.Memory, want: MemoryImport): void {
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  if (want.shared !== shared) {
    throw new TypeError(`wasm-vdso: the program imports a ${want.shared ? "shared" : "plain"} memory and the store's is ${shared ? "shared" : "plain"} (build it ${shared ? "with" : "without"} sharedMemory: the "shared" target of assembly/asconfig.lib.json)`);
  }
  const pages = memory.buffer.byteLength / 65536;
  if (pages < want.min) memory.grow(want.min - pages); // throws a RangeError past the memory's maximum
}
