/** A WASI guest instance under node:wasi, with some of its imports replaced (`over` gets the guest's memory, asked at call time). */
import { WASI } from "node:wasi";

export function nodeWasiGuest<G extends { memory: WebAssembly.Memory }>(module: WebAssembly.Module, over: (memory: () => WebAssembly.Memory) => object = () => ({})): G {
  const wasi = new WASI({ version: "preview1" });
  let g: G | undefined;
  const i = new WebAssembly.Instance(module, { wasi_snapshot_preview1: { ...wasi.wasiImport, ...over(() => g!.memory) } } as WebAssembly.Imports);
  wasi.initialize(i);
  g = i.exports as unknown as G;
  return g;
}
