// dist/src/*.js finds the module at ../build/, as src/*.ts does: copy it there.
import { cpSync, mkdirSync } from "node:fs";
mkdirSync("dist/build", { recursive: true });
for (const f of ["release.wasm", "debug.wasm"]) cpSync(`build/${f}`, `dist/build/${f}`);
