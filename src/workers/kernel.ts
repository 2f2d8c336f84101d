/**
 * The kernel in a Worker (Node worker_threads or a browser Worker, one API):
 * it writes the data store in a shared memory, readers in any thread read it
 * (`createReader(kw)`). The host side supervises it: a worker that stops
 * (an error, an exit, a terminate) rejects every call at once, its store is
 * marked closed so readers carry time forward instead of reading it frozen,
 * and with `restart` a new kernel adopts the store and time continues.
 */
import { vdso_arch_data } from "../../assembly/layout.ts";
import { archPage, type View, storeMemory } from "../datastore.ts";
import { closeAbandoned } from "../kernel/adopt.ts";
import type { Kernel, KernelOptions } from "../kernel/kernel.ts";
import { checkHz, checkOptions } from "../kernel/options.ts";
import { putBack, type Timex, timex, writeTimex } from "../kernel/timex.ts";
import { EFAULT } from "../../assembly/layout.ts";
import { FILLS_ARGS, type KernelCall, type WorkerMessage } from "./protocol.ts";
import { canShare, fromSource, sourceFile, spawn, type SpawnedWorker, type WorkerCode } from "./spawn.ts";

type Pending = { resolve: (v: { result: unknown; args?: unknown[] }) => void; reject: (e: Error) => void };

/**
 * The worker: in the source tree kernel-main.ts next to this file; once built,
 * kernel-main bundled with all its imports into one module (scripts/bundle.mjs),
 * so it needs no file, URL or bundler support wherever the package runs.
 */
const entry = async (): Promise<URL | WorkerCode> =>
  fromSource(import.meta.url) ? sourceFile("./kernel-main.ts", import.meta.url) : { name: "kernel", code: (await import("../generated/kernel-worker.ts")).default };

export type KernelWorkerOptions = Omit<KernelOptions, "memory" | "clocksource" | "adopt" | "adoptAfterMs"> & {
  /** How often the worker ticks the kernel, per second (default 250). */
  hz?: number;
  /** When the worker stops unexpectedly, start a new kernel that adopts the store (default false). */
  restart?: boolean;
  /** Called when the worker stopped unexpectedly, with why (also when another kernel adopted its store: then it is not restarted). */
  onStop?: (reason: Error) => void;
  /** Called when a restarted kernel publishes (calls work again). */
  onRestart?: () => void;
};

/** What a kernel worker is started with (its first message). */
export interface KernelWorkerStart {
  memory: WebAssembly.Memory;
  options: Omit<KernelWorkerOptions, "restart" | "onStop" | "onRestart">;
  adopt: boolean;
}

export class KernelWorker {
  private next = 1;
  private pending = new Map<number, Pending>();
  /** Why calls are refused now (stopped or closed), or undefined while the kernel runs. */
  private refusal?: Error;
  private closing?: Promise<void>;
  private w!: SpawnedWorker;
  /** The claim the worker's kernel holds (its fencing token). */
  private token = 0;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly view: View,
    private readonly opts: KernelWorkerOptions,
  ) {}

  /** Starts a kernel in a worker; options as Kernel.create's (checked here, before any worker starts), plus the tick rate. */
  static async start(options: KernelWorkerOptions = {}): Promise<KernelWorker> {
    if (options === null || typeof options !== "object") throw new TypeError("wasm-vdso: options must be an object");
    const { hz, restart, onStop, onRestart, ...rest } = options;
    const kernel = checkOptions(rest);
    if (hz !== undefined) checkHz(hz);
    if (restart !== undefined && typeof restart !== "boolean") throw new TypeError("wasm-vdso: restart must be a boolean");
    for (const [name, f] of [["onStop", onStop], ["onRestart", onRestart]] as const) {
      if (f !== undefined && typeof f !== "function") throw new TypeError(`wasm-vdso: ${name} must be a function`);
    }
    if (!canShare()) throw new Error("wasm-vdso: a kernel worker needs shared memory (in browsers: a cross-origin isolated page)");
    const memory = storeMemory(true);
    const { w, view, token } = await KernelWorker.launch(memory, { ...kernel, hz }, false);
    const kw = new KernelWorker(memory, view, { ...kernel, hz, restart, onStop, onRestart }); // what was checked, for a restart too
    kw.attach(w, token);
    return kw;
  }

  /** Spawns a kernel worker on `memory` and waits for its first publication. */
  private static async launch(memory: WebAssembly.Memory, options: KernelWorkerStart["options"], adopt: boolean): Promise<{ w: SpawnedWorker; view: View; token: number }> {
    const w = await spawn(await entry(), { memory, options, adopt } satisfies KernelWorkerStart);
    const ready = await new Promise<{ view: View; token: number }>((resolve, reject) => {
      w.onError(reject);
      w.onExit((code) => reject(new Error(`wasm-vdso: the kernel worker exited (code ${code}) before it started`)));
      w.onMessage((m) => {
        if ((m as { ready?: boolean }).ready) resolve(m as { view: View; token: number });
      });
    }).catch(async (e: Error) => {
      await w.terminate();
      throw e;
    });
    return { w, ...ready };
  }

  private attach(w: SpawnedWorker, token: number): void {
    this.w = w;
    this.token = token;
    w.onMessage((raw) => {
      const m = raw as WorkerMessage;
      if ("ready" in m) return;
      if ("fenced" in m) return this.stopped(w, new Error(m.fenced));
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ("error" in m) p.reject(m.errorType === "TypeError" ? new TypeError(m.error) : m.errorType === "RangeError" ? new RangeError(m.error) : new Error(m.error));
      else p.resolve({ result: m.result, args: m.args });
    });
    w.onError((e) => this.stopped(w, new Error(`wasm-vdso: the kernel worker stopped: ${e.message}`)));
    w.onExit((code) => this.stopped(w, new Error(`wasm-vdso: the kernel worker stopped (exit code ${code})`)));
  }

  /**
   * The worker `w` is gone: refuse calls, let readers carry time forward,
   * restart if asked. If another kernel adopted its store meanwhile (the
   * claim moved on), the store is that kernel's: not closed, not restarted,
   * and every call is refused saying so.
   */
  private stopped(w: SpawnedWorker, why: Error): void {
    if (w !== this.w || this.refusal) return;
    const adopted = this.adopted();
    if (adopted) why = new Error("wasm-vdso: the kernel worker stopped: its store was adopted by another kernel");
    this.refusal = why;
    this.rejectAll(why);
    void (async () => {
      await w.terminate(); // a browser worker outlives an error event: make sure it writes no more
      closeAbandoned(this.memory, this.token); // no-op once adopted
      if (this.closing) return;
      this.opts.onStop?.(why);
      if (this.opts.restart && !adopted) await this.restart();
    })();
  }

  /** Whether the store's claim is no longer our worker's kernel's. */
  private adopted(): boolean {
    return Atomics.load(new Uint32Array(this.memory.buffer), (archPage() + vdso_arch_data.writer) >> 2) !== this.token;
  }

  private async restart(): Promise<void> {
    const { hz, restart: _r, onStop: _s, onRestart: _o, ...kernel } = this.opts;
    try {
      const { w, token } = await KernelWorker.launch(this.memory, { ...kernel, hz }, true);
      if (this.closing) {
        await w.terminate();
        closeAbandoned(this.memory, token); // it adopted the store: leave it closed, not looking live
        return;
      }
      this.attach(w, token);
      this.refusal = undefined;
      this.opts.onRestart?.();
    } catch (e) {
      this.refusal = new Error(`wasm-vdso: the kernel worker stopped and could not be restarted: ${(e as Error).message}`);
    }
  }

  private rejectAll(why: Error): void {
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
  }

  /** Whether the kernel runs (false once it stopped, while it restarts, and after close). */
  get running(): boolean {
    return !this.refusal;
  }

  /**
   * Calls a Kernel method in the worker; a timex passed to adjtimex/clockAdjtime
   * comes back filled in. That timex is converted here (its getters read once)
   * and must take the read-back: one that will not (frozen, a setter or Proxy
   * trap that throws, tried here and put back) is -EFAULT before the call is sent.
   */
  async call<M extends KernelCall>(method: M, ...args: Parameters<Kernel[M]>): Promise<ReturnType<Kernel[M]>> {
    const fills = FILLS_ARGS.includes(method);
    const sent: unknown[] = [...args];
    if (fills) {
      for (const [i, a] of sent.entries()) {
        if (a === null || typeof a !== "object") continue;
        const k = timex(a);
        const undo: (() => void)[] = [];
        if (!writeTimex(a, k, undo)) return -EFAULT as ReturnType<Kernel[M]>;
        putBack(undo);
        sent[i] = k;
      }
    }
    const { result, args: back } = await this.send({ method, args: sent });
    if (back && fills) {
      for (const [i, b] of back.entries()) {
        const a: unknown = args[i];
        // Applied already: an object that refuses now (a setter that changed its mind) gets Linux's answer, -EFAULT.
        if (b && typeof b === "object" && a && typeof a === "object" && !writeTimex(a, b as Timex)) return -EFAULT as ReturnType<Kernel[M]>;
      }
    }
    return result as ReturnType<Kernel[M]>;
  }

  private send(msg: { method: KernelCall; args: unknown[] } | { close: true }): Promise<{ result: unknown; args?: unknown[] }> {
    if (this.refusal) return Promise.reject(this.refusal);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.w.postMessage({ id, ...msg });
      } catch (e) {
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  /**
   * Closes the kernel (its store is marked closed: readers carry time
   * forward) and ends the worker. Resolves even if the worker already
   * stopped; later calls reject at once. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.send({ close: true }).catch(() => {});
      const why = new Error("wasm-vdso: the kernel worker is closed");
      this.refusal = why;
      this.rejectAll(why);
      await this.w.terminate();
      closeAbandoned(this.memory, this.token); // no-op when the kernel closed its store itself, or another adopted it
    })();
    return this.closing;
  }
}
