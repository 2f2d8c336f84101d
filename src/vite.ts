/**
 * `wasm-vdso/vite`: the whole Vite configuration wasm-vdso needs, in one line:
 *
 *     import wasmVdso from "wasm-vdso/vite";
 *     export default { plugins: [wasmVdso()] };
 *
 * It serves the app cross-origin isolated (COOP/COEP) under `vite` and `vite
 * preview`, so `KernelWorker` and shared-memory readers work; a production
 * server must send the same two headers. The package needs nothing else from
 * Vite: its wasm and its workers are embedded in its code. It is left out of
 * dependency prebundling only so that the development builds (`build: "debug"`)
 * it does not embed are found in node_modules under `vite` dev.
 */
import type { Plugin } from "vite";

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, shared wasm memory). */
export const crossOriginIsolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
} as const;

export interface WasmVdsoPluginOptions {
  /** Send the COOP/COEP headers under `vite` and `vite preview` (default true). */
  crossOriginIsolation?: boolean;
}

export function wasmVdso(options: WasmVdsoPluginOptions = {}): Plugin {
  const headers = options.crossOriginIsolation === false ? {} : { ...crossOriginIsolation };
  return {
    name: "wasm-vdso",
    config: () => ({
      server: { headers },
      preview: { headers },
      optimizeDeps: { exclude: ["wasm-vdso"] },
    }),
  };
}

export default wasmVdso;
