/** The rows' Node platform: build files from disk, and node:wasi first (the import rows and the adapter run under it), then browser_wasi_shim. */
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { type Platform, shimRuntime, type WasiRuntime } from "./rows.ts";

const nodeWasi: WasiRuntime = (module, over = {}, env) => {
  const w = new WASI({ version: "preview1" });
  const i = new WebAssembly.Instance(module, { ...(env ? { env } : {}), wasi_snapshot_preview1: { ...w.wasiImport, ...over } } as WebAssembly.Imports);
  w.initialize(i);
  return i.exports;
};

export const nodePlatform: Platform = {
  load: (path) => readFile(new URL(`../${path}`, import.meta.url)),
  runtimes: { "node:wasi": nodeWasi, browser_wasi_shim: shimRuntime },
};
