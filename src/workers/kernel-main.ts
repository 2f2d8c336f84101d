/**
 * A kernel in a worker (Node worker_threads or a browser Worker): it owns the
 * timekeeper and publishes into the shared memory it is given; readers live
 * in other threads. Calls arrive as CallMessage and are answered in order.
 */
import { Kernel } from "../kernel/kernel.ts";
import { type CallMessage, FILLS_ARGS, KERNEL_CALLS, type WorkerMessage } from "./protocol.ts";
import type { KernelWorkerStart } from "./kernel.ts";

const isNode = typeof process !== "undefined" && !!process.versions?.node;

let post: (m: WorkerMessage) => void;
let data: KernelWorkerStart;
const inbox: CallMessage[] = [];
let handle = (m: CallMessage) => void inbox.push(m);
if (isNode) {
  const { parentPort, workerData } = await import("node:worker_threads");
  post = (m) => parentPort!.postMessage(m);
  parentPort!.on("message", (m: CallMessage) => handle(m));
  data = workerData as KernelWorkerStart;
} else {
  const scope = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
  post = (m) => scope.postMessage(m);
  data = await new Promise<KernelWorkerStart>((resolve) => (scope.onmessage = (e) => resolve(e.data as KernelWorkerStart)));
  scope.onmessage = (e) => handle(e.data as CallMessage);
}

const allowed = new Set<string>(KERNEL_CALLS);
const { hz, ...options } = data.options;
// A restart adopts the store of the kernel that stopped: its clocks continue.
const k = await Kernel.create({ ...options, memory: data.memory, adopt: data.adopt });
// Another kernel adopted the store: this one writes no more; the host stops it and says why.
k.onFenced = (e) => post({ fenced: e.message });
k.startTicking(hz ?? 250);

handle = (msg) => {
  if ("close" in msg) {
    k.close();
    post({ id: msg.id, result: 0 });
    return;
  }
  try {
    if (!allowed.has(msg.method)) throw new TypeError(`wasm-vdso: no kernel call ${JSON.stringify(msg.method)}`);
    const args = msg.args ?? [];
    const result = (k[msg.method] as (...a: unknown[]) => unknown)(...args);
    post({ id: msg.id, result, args: FILLS_ARGS.includes(msg.method) ? args : undefined });
  } catch (e) {
    post({ id: msg.id, error: String((e as Error)?.message ?? e), errorType: (e as Error)?.name });
  }
};
for (const m of inbox.splice(0)) handle(m);
post({ ready: true, view: k.rootView(), token: k.store.token });
