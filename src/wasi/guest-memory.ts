/**
 * A guest's memory as the copy path sees it: asked for at call time (so it
 * can be bound after instantiation), brand-checked once per memory object,
 * its DataView renewed only when the buffer changes (growth, another memory),
 * and checked then for being the store's memory (by content).
 */
import { reader_slot, USER_START } from "../../assembly/layout.ts";

/**
 * `WebAssembly.Memory.prototype.buffer`'s getter: it brand-checks its receiver,
 * so it throws for anything that is not a real memory (`{}`, a spoofed
 * prototype, an object with its own `buffer`), yet accepts a memory of any realm.
 */
const memoryBuffer = Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer")!.get as (this: WebAssembly.Memory) => ArrayBufferLike;

/** A reader's memory and its slot (only that reader writes the slot). */
export interface StoreSide {
  readonly memory: WebAssembly.Memory;
  readonly scratch: number;
}

const isSab = (b: ArrayBufferLike) => Object.prototype.toString.call(b) === "[object SharedArrayBuffer]"; // any realm

/**
 * Whether `m` is the store's memory, by content rather than by object: a
 * shared memory sent to a worker (or cloned here: structuredClone) is another
 * Memory object with another buffer object over the same bytes. A word of
 * the reader's own slot is flipped, looked at through `m`, and put back
 * (nothing else writes that word, and this thread does nothing in between).
 */
export function isStoreMemory(m: WebAssembly.Memory, store: StoreSide): boolean {
  const mine = store.memory.buffer;
  const theirs = memoryBuffer.call(m);
  if (m === store.memory || theirs === mine) return true;
  if (!isSab(mine) || !isSab(theirs)) return false; // a plain memory's bytes are in no other Memory
  const at = store.scratch + reader_slot.result;
  if (theirs.byteLength < at + 4) return false; // too small to hold the store
  const a = new Int32Array(mine, at, 1);
  const b = new Int32Array(theirs, at, 1);
  const old = Atomics.load(a, 0);
  Atomics.store(a, 0, ~old);
  const same = Atomics.load(b, 0) === ~old;
  Atomics.store(a, 0, old);
  return same;
}

export class GuestMemory {
  /** The last getter result that passed the brand check. */
  mem: WebAssembly.Memory | undefined;
  private buf: ArrayBufferLike | undefined;
  /** The current view (valid after `resolve()` returned true). */
  view!: DataView;
  /** Lowest writable address: USER_START in the vDSO's own memory, else 0. */
  low = 0;

  constructor(
    private readonly get: () => WebAssembly.Memory,
    private readonly store: StoreSide,
  ) {}

  /** The guest's memory, current buffer and view, or false (for `fault`). Never throws. */
  resolve(): boolean {
    let m: WebAssembly.Memory;
    try {
      m = this.get();
    } catch {
      return false;
    }
    if (m !== this.mem || this.mem === undefined) {
      try {
        memoryBuffer.call(m);
      } catch {
        return false;
      }
      this.mem = m;
      this.buf = undefined;
    }
    const b = m.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.view = new DataView(b);
      this.low = isStoreMemory(m, this.store) ? USER_START : 0;
    }
    return true;
  }

  /** `[to, to + len)` is writable in the resolved memory; `to` and `len` are u32. */
  writable(to: number, len: number): boolean {
    return to >= this.low && to + len <= this.view.byteLength;
  }

  /** `[from, from + len)` lies in the resolved memory (for reading). */
  readable(from: number, len: number): boolean {
    return from + len <= this.view.byteLength;
  }
}
