import { defineConfig } from "vite";

// Cross-origin isolation (COOP/COEP) lets the page share a SharedArrayBuffer with the worker.
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  server: { headers: isolation, fs: { allow: [new URL("..", import.meta.url).pathname] } },
  preview: { headers: isolation },
  worker: { format: "es" },
  build: { outDir: new URL("../site", import.meta.url).pathname, emptyOutDir: true, target: "es2022" },
});
