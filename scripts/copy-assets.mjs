// After tsc: what dist/ holds besides the compiled sources.
// dist/build: release.d.ts/.js, asc's bindings, give the bridge's declaration
// (dist/src/wasm.d.ts) the exports' types; the release modules as files for
// embedders that instantiate them themselves (the package's own code embeds
// them, scripts/bundle.mjs); debug.wasm, which it does not embed: a reader with
// `build: "debug"` loads it from here (Node, or a dev server that serves node_modules).
import { cpSync, mkdirSync } from "node:fs";
mkdirSync("dist/build", { recursive: true });
for (const f of ["release.wasm", "release-shared.wasm", "debug.wasm", "release.d.ts", "release.js"]) cpSync(`build/${f}`, `dist/build/${f}`);
