/**
 * The bench's measuring in Node: the portable part (core.ts) plus the C row,
 * a program run through the real vDSO (execFileSync: Node only).
 */
import { execFileSync } from "node:child_process";
import { C_ROW, type External } from "./core.ts";

export * from "./core.ts";

/** The C program as an external row: 5 M reads a round, 100 k (~3 ms) a slice. */
export function cRow(cProgram: string | undefined): External | undefined {
  const run = (n: number) => Number(execFileSync(cProgram!, [String(n)], { encoding: "utf8" }).split(" ")[0]);
  return cProgram ? { name: C_ROW, group: "native", round: () => run(5_000_000), slice: () => run(100_000) } : undefined;
}
