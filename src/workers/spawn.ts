/** One way to start a module worker in Node (worker_threads) and in browsers. */
export interface SpawnedWorker {
  postMessage(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): void;
  onError(cb: (err: unknown) => void): void;
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
    // From the source tree (tests, bench) the entry is TypeScript: load it through tsx, a dev dependency.
    const w = url.pathname.endsWith(".ts")
      ? new NodeWorker(`import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: data })
      : new NodeWorker(url, { workerData: data });
    w.unref();
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (cb) => w.on("message", cb),
      onError: (cb) => w.on("error", cb),
      terminate: () => w.terminate(),
    };
  }
  const w = new Worker(url, { type: "module" });
  w.postMessage(data);
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) => w.addEventListener("message", (e) => cb(e.data)),
    onError: (cb) => w.addEventListener("error", cb),
    terminate: () => w.terminate(),
  };
}
