/**
 * A guest's memory as the copy path sees it: asked for at call time (so it
 * can be bound after instantiation), brand-checked once per memory object,
 * its DataView renewed only when the buffer changes (growth, another memory).
 */
import { USER_START } from "../../assembly/layout.ts";

/**
 * `WebAssembly.Memory.prototype.buffer`'s getter: it brand-checks its receiver,
 * so it throws for anything that is not a real memory (`{}`, a spoofed
 * prototype, an object with its own `buffer`), yet accepts a memory of any realm.
 */
const memoryBuffer = Object.getOwnPropertyDescriptor(WebAssembly.Memory.prototype, "buffer")!.get as (this: WebAssembly.Memory) => ArrayBufferLike;

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
    private readonly vdsoMemory: WebAssembly.Memory,
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
      this.low = m === this.vdsoMemory || b === this.vdsoMemory.buffer ? USER_START : 0;
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
