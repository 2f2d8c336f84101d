// dist/src/*.js finds the wasm at ../build/ and its workers at ./workers/, as src/*.ts does: copy them there.
// release.d.ts/.js: the bridge's declaration (dist/src/wasm.d.ts) takes the exports' types from them.
import { cpSync, mkdirSync, readdirSync } from "node:fs";
mkdirSync("dist/build", { recursive: true });
for (const f of ["release.wasm", "release-shared.wasm", "debug.wasm", "release.d.ts", "release.js"]) cpSync(`build/${f}`, `dist/build/${f}`);
mkdirSync("dist/src/workers", { recursive: true });
for (const f of readdirSync("src/workers").filter((f) => f.endsWith(".js"))) cpSync(`src/workers/${f}`, `dist/src/workers/${f}`);
