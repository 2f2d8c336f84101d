import { defineConfig } from "vite";
import wasmVdso from "../src/vite.ts";

// The plugin serves the page cross-origin isolated (COOP/COEP), so it can share
// a SharedArrayBuffer with the worker: under `vite`, `vite preview` and `npm run preview`.
// `vite` serves the library from its sources; the built site (`npm run build`)
// takes the package's browser entry instead, as an app that installs it would.
export default defineConfig(({ command }) => ({
  plugins: [wasmVdso()],
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  resolve: command === "build" ? { alias: [{ find: /^\.\.\/src\/index\.ts$/, replacement: new URL("../dist/browser/index.js", import.meta.url).pathname }] } : {},
  server: { fs: { allow: [new URL("..", import.meta.url).pathname] } },
  worker: { format: "es" },
  build: { outDir: new URL("../site", import.meta.url).pathname, emptyOutDir: true, target: "es2022" },
}));
