// An asc transform for the generated bindings (build/<name>.js). They pass on
// only the import modules that the program's @external declarations name
// (AssemblyScript issue #2823), so an imported memory's `env` was dropped and
// `instantiate(module, { vdso, env: { memory } })` failed. Naming `env` (with
// no functions) makes them pass `imports.env` on as given. The wasm is not changed.
export default class EnvImport {
  afterCompile() {
    const imports = this.program.moduleImports;
    if (!imports.has("env")) imports.set("env", new Map());
  }
}
