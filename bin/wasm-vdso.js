#!/usr/bin/env node
// The CLI, from the TypeScript build in dist/ (made by `npm run build`, run by `npm ci`).
import { main } from "../dist/src/cli.js";

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`wasm-vdso: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);
