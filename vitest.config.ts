import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // One file at a time: the stress harness, the worker tests and the browser's
    // frame-rate check each want the two cores to themselves.
    fileParallelism: false,
  },
});
