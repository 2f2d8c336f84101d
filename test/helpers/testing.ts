/** The testing build's extra exports (primitives for tests and the bench), typed by asc's declarations. */
import type { Vdso } from "../../src/wasm.ts";

export type TestingExports = Awaited<ReturnType<typeof import("../../build/testing.js").instantiate>>;

/** The exports of an instance made with `build: "testing"`. */
export function testingExports(v: Vdso): TestingExports {
  return v.exports as unknown as TestingExports;
}
