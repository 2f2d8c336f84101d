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

/**
 * A worker's code as one self-contained ES module (made at build time by
 * scripts/bundle.mjs: the entry with every import it makes), so it needs
 * nothing from the app, its bundler or its server. `name` labels it in
 * messages and stack traces.
 */
export interface WorkerCode {
  name: string;
  code: string;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node;

/**
 * Whether this code runs from the TypeScript sources (tests, bench, the demo
 * under `vite` dev) rather than from the package's build.
 */
export const fromSource = (moduleUrl: string | undefined): boolean => typeof moduleUrl === "string" && moduleUrl.endsWith(".ts");

/**
 * A module file next to `base`, for the source tree only. Not written as
 * `new URL("…", import.meta.url)`, which bundlers take for an asset to copy.
 */
export const sourceFile = (name: string, base: string): URL => new URL(name, base);

/** Can this environment run a worker on shared memory? */
export function canShare(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  if (isNode) return true;
  return typeof Worker !== "undefined" && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** One blob: URL per bundled worker, for the page's lifetime (a restarted worker reuses it). */
const blobUrls = new Map<string, string>();

/** The code with a name for stack traces and devtools (else a frame is the whole data: URL). */
const named = (c: WorkerCode) => `${c.code}\n//# sourceURL=wasm-vdso/${c.name}.js\n`;

/**
 * Starts a worker with `data` (Node: workerData; browsers: the first message).
 * `entry` is a module file (the source tree: a .ts entry runs through tsx) or
 * bundled code: run from a data: URL in Node and a blob: URL in browsers (a
 * blob worker inherits the page's cross-origin isolation). The worker never
 * holds the process open.
 */
export async function spawn(entry: URL | WorkerCode, data: unknown): Promise<SpawnedWorker> {
  const name = entry instanceof URL ? entry.pathname.split("/").pop()! : entry.name;
  if (isNode) {
    const { Worker: NodeWorker } = await import("node:worker_threads");
    let w: InstanceType<typeof NodeWorker>;
    if (!(entry instanceof URL)) {
      w = new NodeWorker(new URL(`data:text/javascript,${encodeURIComponent(named(entry))}`), { workerData: data, name });
    } else if (entry.pathname.endsWith(".ts")) {
      // From the source tree the entry is TypeScript: load it through tsx, a dev
      // dependency, resolved from here rather than from the process's cwd.
      w = new NodeWorker(`import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData: data });
    } else {
      w = new NodeWorker(entry, { workerData: data });
    }
    w.unref();
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (cb) => w.on("message", cb),
      onError: (cb) => w.on("error", (e) => cb(e instanceof Error ? e : new Error(String(e)))),
      onExit: (cb) => w.on("exit", cb),
      terminate: () => w.terminate(),
    };
  }
  let url: string;
  let where: string;
  if (entry instanceof URL) {
    url = entry.href;
    where = entry.href;
  } else {
    let u = blobUrls.get(entry.code);
    if (!u) blobUrls.set(entry.code, (u = URL.createObjectURL(new Blob([named(entry)], { type: "text/javascript" }))));
    url = u;
    where = "a blob: URL of its bundled code";
  }
  let w: Worker;
  try {
    w = new Worker(url, { type: "module", name });
  } catch (e) {
    throw new Error(`wasm-vdso: the ${name} worker could not be created from ${where}: ${(e as Error)?.message ?? e}`);
  }
  w.postMessage(data);
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) => w.addEventListener("message", (e) => cb(e.data)),
    onError: (cb) =>
      w.addEventListener("error", (e) => {
        // A script error carries its message; a worker that did not load gets a bare Event.
        const why = e instanceof ErrorEvent && e.message
          ? `${e.message}${e.filename ? ` (${e.filename}:${e.lineno})` : ""}`
          : `it failed to load from ${where} (the browser gives no reason: a 404, a script that does not parse, or a Content-Security-Policy without worker-src ${entry instanceof URL ? new URL(url).origin : "blob:"})`;
        cb(new Error(`wasm-vdso: the ${name} worker: ${why}`));
      }),
    onExit: () => {},
    terminate: () => w.terminate(),
  };
}
