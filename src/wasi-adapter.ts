/**
 * WASI preview1 `clock_time_get`, `clock_res_get` and `random_get` for a guest
 * with its own memory, with no JS on a call where the engine has multi-memory
 * (Node 22+, Chromium 120+): a small wasm adapter imports both memories (the
 * store's, the guest's) and the vDSO's exports, and stores or copies each
 * answer straight into the guest's memory, bounds-checked (`fault`, 21).
 *
 * The guest's memory exists only once the guest is instantiated, so the guest
 * imports a forwarding module's functions, which call through a table: on the
 * first call a lazy slot calls JS once to instantiate the adapter with the
 * guest's memory and put its exports in the table; from then on the call path
 * is wasm only (guest -> forwarder -> adapter -> vDSO). Without multi-memory
 * (Node 20, older browsers) the same call gives `wasiClockImports`, the copy
 * path (one JS call per WASI call).
 *
 * Sources: src/wasi-adapter.wat and src/wasi-forward.wat; the bytes are
 * src/wasi-adapter.bytes.ts (base64, `node src/wasi-adapter.gen.mjs`), so no
 * assembler is needed at run time, in Node or a browser.
 */
import { reader_slot, wasi_errno } from "../assembly/layout.ts";
import { bridgeOf, type Reader } from "./reader.ts";
import { wasiClockImports, type WasiClockImports } from "./wasi.ts";
import { isStoreMemory } from "./wasi/guest-memory.ts";
import { ADAPTER, FORWARD } from "./wasi-adapter.bytes.ts";

/** Which path a provider from `wasiClockImportsAdapter` takes. */
export type WasiAdapterPath = "multi-memory" | "copy";

/** The smallest module with two memories: valid only where the engine has multi-memory. */
const TWO_MEMORIES = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00]);

let multiMemory: boolean | undefined;
/** Whether this engine has multi-memory (`WebAssembly.validate` of a two-memory module), asked once. */
export function hasMultiMemory(): boolean {
  multiMemory ??= WebAssembly.validate(TWO_MEMORIES);
  return multiMemory;
}

const fromBase64 = (s: string): Uint8Array<ArrayBuffer> => {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
};

// Compiled once, synchronously: a few hundred bytes each (a browser's main thread allows that).
const compiled = new Map<string, WebAssembly.Module>();
function module(name: keyof typeof ADAPTER | "forward"): WebAssembly.Module {
  let m = compiled.get(name);
  if (!m) compiled.set(name, (m = new WebAssembly.Module(fromBase64(name === "forward" ? FORWARD : ADAPTER[name]))));
  return m;
}

const isShared = (m: WebAssembly.Memory) => typeof SharedArrayBuffer !== "undefined" && m.buffer instanceof SharedArrayBuffer;
const memoryBuffer = Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer")!.get as (this: WebAssembly.Memory) => ArrayBufferLike;

const paths = new WeakMap<object, WasiAdapterPath>();
/** The path a provider made by `wasiClockImportsAdapter` takes (undefined for any other object). */
export function wasiAdapterPath(imports: object): WasiAdapterPath | undefined {
  return paths.get(imports);
}

/**
 * The same three imports as `wasiClockImports(reader, guestMemory)` (same
 * arguments, same answers), through the multi-memory adapter where the engine
 * has it, else the copy path itself. `guestMemory` is asked once, on the first
 * call (the guest is instantiated by then); until it gives a memory, calls
 * answer `fault` and the next one asks again. The adapter then stays bound to
 * that memory (its growth is seen: the bounds check reads its current size).
 * A guest whose memory is the store's own gets the vDSO's exports themselves
 * in the table (`wasiClockImportsNoJs`). `wasiAdapterPath(imports)` says
 * which path was taken.
 */
export function wasiClockImportsAdapter(reader: Reader, guestMemory: () => WebAssembly.Memory): WasiClockImports {
  if (!hasMultiMemory()) {
    const copy = wasiClockImports(reader, guestMemory);
    paths.set(copy, "copy");
    return copy;
  }
  const vdso = bridgeOf(reader);
  const e = vdso.exports;
  let slots: WebAssembly.Table | undefined;
  const wire = (): number => {
    let m: WebAssembly.Memory;
    try {
      m = guestMemory();
      memoryBuffer.call(m); // brand check: a real memory, of any realm
    } catch {
      return wasi_errno.FAULT;
    }
    if (isStoreMemory(m, vdso)) {
      // The guest's memory is the store's (this Memory or another over the same bytes): the vDSO's own exports check user memory themselves.
      slots!.set(0, e.wasi_clock_time_get);
      slots!.set(1, e.wasi_clock_res_get);
      slots!.set(2, e.wasi_random_get);
      return 0;
    }
    const kind = `${isShared(vdso.memory) ? "shared" : "plain"}_${isShared(m) ? "shared" : "plain"}` as keyof typeof ADAPTER;
    const adapter = new WebAssembly.Instance(module(kind), {
      env: { memory: vdso.memory },
      guest: { memory: m },
      vdso: {
        wasi_time_ns: e.wasi_time_ns,
        wasi_clock_res_get: e.wasi_clock_res_get,
        wasi_random_get: e.wasi_random_get,
        res: vdso.scratch + reader_slot.result + 16,
        chunk: vdso.scratch + reader_slot.chunk,
        chunk_size: reader_slot.CHUNK_SIZE,
      },
    }).exports;
    slots!.set(0, adapter.clock_time_get as never);
    slots!.set(1, adapter.clock_res_get as never);
    slots!.set(2, adapter.random_get as never);
    return 0;
  };
  const forward = new WebAssembly.Instance(module("forward"), { adapter: { wire } }).exports;
  slots = forward.slots as WebAssembly.Table;
  const imports: WasiClockImports = {
    clock_time_get: forward.clock_time_get as WasiClockImports["clock_time_get"],
    clock_res_get: forward.clock_res_get as WasiClockImports["clock_res_get"],
    random_get: forward.random_get as WasiClockImports["random_get"],
  };
  paths.set(imports, "multi-memory");
  return imports;
}
