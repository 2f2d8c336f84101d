/**
 * The kernel in a Worker (Node worker_threads or a browser Worker, one API):
 * it writes the data store in a shared memory, readers in any thread read it.
 */
import { canShare, spawn, type SpawnedWorker } from "../workers/spawn.ts";
import { sharedMemory, type View } from "../wasm.ts";
import type { KernelOptions } from "./kernel.ts";

type Pending = { resolve: (v: { result: unknown; args?: unknown[] }) => void; reject: (e: Error) => void };

export class KernelWorker {
  private next = 1;
  private pending = new Map<number, Pending>();

  private constructor(
    private w: SpawnedWorker,
    readonly memory: WebAssembly.Memory,
    readonly view: View,
  ) {}

  /** Starts a kernel in a worker; options as Kernel.create's, plus the tick rate. */
  static async start(options: Omit<KernelOptions, "memory" | "clocksource" | "build"> & { hz?: number } = {}): Promise<KernelWorker> {
    if (!canShare()) throw new Error("wasm-vdso: a kernel worker needs shared memory (in browsers: a cross-origin isolated page)");
    const memory = sharedMemory();
    const w = await spawn(new URL("../workers/kernel.js", import.meta.url), { memory, options });
    let self: KernelWorker | undefined;
    const ready = new Promise<View>((resolve, reject) => {
      w.onError((e) => reject(e instanceof Error ? e : new Error(String(e))));
      w.onMessage((raw) => {
        const m = raw as { ready?: boolean; view?: View; id?: number; result?: unknown; error?: string; args?: unknown[] };
        if (m.ready) return resolve(m.view!);
        const p = self?.pending.get(m.id!);
        if (!p) return;
        self!.pending.delete(m.id!);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve({ result: m.result, args: m.args });
      });
    });
    self = new KernelWorker(w, memory, await ready);
    return self;
  }

  /** Calls a Kernel method in the worker; objects passed (a timex) come back filled in. */
  async call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    const { result, args: back } = await new Promise<{ result: unknown; args?: unknown[] }>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, method, args });
    });
    back?.forEach((b, i) => {
      if (b && typeof b === "object" && args[i] && typeof args[i] === "object") Object.assign(args[i] as object, b);
    });
    return result as T;
  }

  async close(): Promise<void> {
    await this.call("close");
    await this.w.terminate();
  }
}
