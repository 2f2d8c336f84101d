#!/usr/bin/env node
// The CLI, from the TypeScript build in dist/ (made by `npm run build`, run by `npm ci`).
// Nothing here builds: dist/src/cli.js loads only what the subcommand needs.

// A reader that went away (`wasm-vdso ... | head`) is not an error: stop quietly, as SIGPIPE would.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  process.stderr.write(`wasm-vdso: stdout: ${e.message}\n`);
  process.exit(70);
});

let cli;
try {
  cli = await import("../dist/src/cli.js");
} catch (e) {
  const missing = e?.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes("dist");
  process.stderr.write(missing
    ? "wasm-vdso: dist/ is missing: run `npm run build` in the package first\n"
    : `wasm-vdso: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(70);
}

cli.main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`wasm-vdso: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);
