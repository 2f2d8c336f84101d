/**
 * The kernel in a Worker (Node worker_threads or a browser Worker, one API):
 * it writes the data store in a shared memory, readers in any thread read it
 * (`createReader(kw)`).
 */
import { type View, storeMemory } from "../datastore.ts";
import type { Kernel, KernelOptions } from "../kernel/kernel.ts";
import type { KernelCall, WorkerMessage } from "./protocol.ts";
import { canShare, spawn, type SpawnedWorker } from "./spawn.ts";

type Pending = { resolve: (v: { result: unknown; args: unknown[] }) => void; reject: (e: Error) => void };

/** The worker entry next to this file: .ts in the source tree, .js once built. */
const entry = () => new URL(`./kernel-main${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);

export type KernelWorkerOptions = Omit<KernelOptions, "memory" | "clocksource"> & {
  /** How often the worker ticks the kernel, per second (default 250). */
  hz?: number;
};

export class KernelWorker {
  private next = 1;
  private pending = new Map<number, Pending>();

  private constructor(
    private w: SpawnedWorker,
    readonly memory: WebAssembly.Memory,
    readonly view: View,
  ) {}

  /** Starts a kernel in a worker; options as Kernel.create's, plus the tick rate. */
  static async start(options: KernelWorkerOptions = {}): Promise<KernelWorker> {
    if (!canShare()) throw new Error("wasm-vdso: a kernel worker needs shared memory (in browsers: a cross-origin isolated page)");
    const memory = storeMemory(true);
    const w = await spawn(entry(), { memory, options });
    let self: KernelWorker | undefined;
    const ready = new Promise<View>((resolve, reject) => {
      w.onError((e) => reject(e instanceof Error ? e : new Error(String(e))));
      w.onMessage((raw) => {
        const m = raw as WorkerMessage;
        if ("ready" in m) return resolve(m.view);
        const p = self?.pending.get(m.id);
        if (!p) return;
        self!.pending.delete(m.id);
        if ("error" in m) p.reject(m.errorType === "TypeError" ? new TypeError(m.error) : m.errorType === "RangeError" ? new RangeError(m.error) : new Error(m.error));
        else p.resolve({ result: m.result, args: m.args });
      });
    });
    self = new KernelWorker(w, memory, await ready);
    return self;
  }

  /** Calls a Kernel method in the worker; objects passed (a timex) come back filled in. */
  async call<M extends KernelCall>(method: M, ...args: Parameters<Kernel[M]>): Promise<ReturnType<Kernel[M]>> {
    const { result, args: back } = await this.send(method, args);
    back.forEach((b, i) => {
      const a: unknown = args[i];
      if (b && typeof b === "object" && a && typeof a === "object") Object.assign(a, b);
    });
    return result as ReturnType<Kernel[M]>;
  }

  private send(method: string, args: unknown[]): Promise<{ result: unknown; args: unknown[] }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, method, args });
    });
  }

  /** Stops the kernel's ticking and the worker. */
  async close(): Promise<void> {
    await this.send("close", []);
    await this.w.terminate();
  }
}
