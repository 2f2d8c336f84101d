/** One way to start a module worker in Node (worker_threads) and in browsers. */
export interface SpawnedWorker {
  postMessage(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** An error the worker could not handle: it is gone (a readable message, not an Event). */
  onError(cb: (err: Error) => void): void;
  /** The worker ended (Node; a browser reports only errors). */
  onExit(cb: (code: number) => void): void;
  terminate(): Promise<unknown> | void;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node;

/** Can this environment run a worker on shared memory? */
export function canShare(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  if (isNode) return true;
  return typeof Worker !== "undefined" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** Starts `url` with `data` (Node: workerData; browsers: the first message). The worker never holds the process open. */
export async function spawn(url: URL, data: unknown): Promise<SpawnedWorker> {
  if (isNode) {
    const { Worker: NodeWorker } = await import("node:worker_threads");
    // From the source tree (tests, bench) the entry is TypeScript: load it through
    // tsx, a dev dependency, resolved from here rather than from the process's cwd.
    const w = url.pathname.endsWith(".ts")
      ? new NodeWorker(`import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: data })
      : new NodeWorker(url, { workerData: data });
    w.unref();
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (cb) => w.on("message", cb),
      onError: (cb) => w.on("error", (e) => cb(e instanceof Error ? e : new Error(String(e)))),
      onExit: (cb) => w.on("exit", cb),
      terminate: () => w.terminate(),
    };
  }
  const w = new Worker(url, { type: "module" });
  w.postMessage(data);
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) => w.addEventListener("message", (e) => cb(e.data)),
    onError: (cb) => w.addEventListener("error", (e) => cb(new Error(e instanceof ErrorEvent && e.message ? e.message : `worker ${url.pathname} failed to load or run (${e.type})`))),
    onExit: () => {},
    terminate: () => w.terminate(),
  };
}
