// A fresh app outside the repo that installs the packed tarball, as a new user
// would: a Vite app whose config is the plugin and nothing else, a page that
// runs a kernel in the page and one in a KernelWorker, and a plain-Node script.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);

/** What the check reports (the page's `window.__result`, node-check.mjs's stdout). */
export interface AppResult {
  isolated?: boolean;
  /** Two CLOCK_MONOTONIC readouts 100 ms apart: a reader of a Kernel in this thread. */
  page?: [number, number];
  /** The same from a reader of a KernelWorker (not in a page without cross-origin isolation). */
  worker?: [number, number];
  /** A host-call kernel's clock_getres(MONOTONIC) in ns, and the smallest step its reader's MONOTONIC took over 20 000 reads. */
  res?: number;
  step?: number;
  error?: string;
}

// The check, in plain JavaScript: the page (main.ts under Vite, plain.html with
// an import map), and Node (node-check.mjs) run the same module.
const check = `import { createReader, Kernel, KernelWorker, layout } from "wasm-vdso";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Two readouts 100 ms apart. */
async function twice(read) {
  const a = read();
  await sleep(100);
  return [a, read()];
}

export async function check() {
  const k = await Kernel.create();
  k.startTicking();
  const inPage = await createReader(k);
  const page = await twice(() => inPage.now(layout.CLOCK_MONOTONIC));
  // The resolution a host-call kernel publishes against what its reader delivers.
  const hk = await Kernel.create({ counter: "host-call" });
  const hr = await createReader(hk);
  const res = Number(hr.clockGetres(layout.CLOCK_MONOTONIC).ts.nsec);
  let step = Infinity;
  let prev = hr.now(layout.CLOCK_MONOTONIC);
  for (let i = 0; i < 20000; i++) {
    const t = hr.now(layout.CLOCK_MONOTONIC);
    if (t > prev && t - prev < step) step = t - prev;
    prev = t;
  }
  hr.close();
  hk.close();
  inPage.close();
  k.close();
  if (globalThis.crossOriginIsolated === false) return { isolated: false, page, res, step };
  const kw = await KernelWorker.start();
  const reader = await createReader(kw);
  const worker = await twice(() => reader.now(layout.CLOCK_MONOTONIC));
  reader.close();
  await kw.close();
  return { isolated: globalThis.crossOriginIsolated, page, worker, res, step };
}
`;

const report = (imp: string) => `import { check } from "${imp}";

check().then(
  (r) => (window.__result = r),
  (e) => (window.__result = { error: String(e?.message ?? e) }),
);
`;

// The package's declarations as a strict TypeScript user meets them.
const types = `import { createReader, Kernel, KernelWorker, layout, type Reader } from "wasm-vdso";
import wasmVdso from "wasm-vdso/vite";

export const plugins = [wasmVdso()];
export async function typed(): Promise<number> {
  const k: Kernel = await Kernel.create();
  const kw: KernelWorker = await KernelWorker.start({ hz: 100 });
  const r: Reader = await createReader(kw);
  const ns: number = r.now(layout.CLOCK_MONOTONIC) + (await createReader(k)).now(layout.CLOCK_REALTIME);
  await kw.close();
  return ns;
}
`;

/** Writes the app into `dir`, with the tarball `tgz` as its one dependency. */
export function writeApp(dir: string, tgz: string): void {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ name: "app", private: true, type: "module", dependencies: { "wasm-vdso": `file:${tgz}` } }, null, 2),
    // The whole Vite configuration a user writes.
    "vite.config.ts": `import wasmVdso from "wasm-vdso/vite";\n\nexport default { plugins: [wasmVdso()] };\n`,
    // No plugin: the COOP/COEP headers by hand, and Vite prebundles the package (its default).
    "vite.prebundle.config.ts": `export default { server: { headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } } };\n`,
    "index.html": `<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>app</title></head>\n<body><script type="module" src="/main.ts"></script></body></html>\n`,
    "main.ts": report("./check.js"),
    "check.js": check,
    // Plain ESM in a browser, no bundler: an import map to the package's browser entry.
    "plain.html": `<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>plain</title>
<script type="importmap">{ "imports": { "wasm-vdso": "/node_modules/wasm-vdso/dist/browser/index.js" } }</script></head>
<body><script type="module">\n${report("/check.js")}</script></body></html>\n`,
    // The same page served without cross-origin isolation (the server leaves COOP/COEP out for /noiso*).
    "noiso.html": `<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>noiso</title>
<script type="importmap">{ "imports": { "wasm-vdso": "/node_modules/wasm-vdso/dist/browser/index.js" } }</script></head>
<body><script type="module">\n${report("/check.js")}</script></body></html>\n`,
    // KernelWorker alone, for a page whose policy forbids blob: workers.
    "csp.html": `<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>csp</title>
<script type="importmap">{ "imports": { "wasm-vdso": "/node_modules/wasm-vdso/dist/browser/index.js" } }</script></head>
<body><script type="module">
import { KernelWorker } from "wasm-vdso";
KernelWorker.start().then((kw) => (window.__result = { error: "started" }, kw.close()), (e) => (window.__result = { error: String(e?.message ?? e) }));
</script></body></html>\n`,
    "node-check.mjs": `import { check } from "./check.js";\nconsole.log(JSON.stringify(await check()));\n`,
    "types.ts": types,
    "tsconfig.json": JSON.stringify({
      compilerOptions: {
        target: "es2022", module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom"], types: [],
        strict: true, skipLibCheck: false, noEmit: true,
      },
      files: ["types.ts"],
    }, null, 2),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** Links the repo's vite into the app (the user's own vite; no download). */
export function lendVite(dir: string, repo: string): void {
  symlinkSync(join(repo, "node_modules/vite"), join(dir, "node_modules/vite"), "dir");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A server process (`vite`, `vite preview`) on `port`, ready when it answers; its output is kept. */
export async function startServer(cmd: string, args: string[], cwd: string, port: number): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const proc = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}/`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${args.join(" ")} exited (${proc.exitCode}):\n${out}`);
    try {
      if ((await fetch(url)).ok) break;
    } catch {}
    if (Date.now() - t0 > 30_000) throw new Error(`${args.join(" ")} did not answer on ${url} in 30 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url, output: () => out };
}

export function stopServer(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    proc.once("exit", () => r());
    proc.kill("SIGTERM");
  });
}
