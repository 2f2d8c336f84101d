/** The calls a KernelWorker forwards: Kernel methods by name, so a misspelt one or a wrong argument is a type error. */
import type { Kernel } from "../kernel/kernel.ts";

export const KERNEL_CALLS = [
  "tick", "adjtimex", "clockAdjtime", "clockSettime", "settimeofday", "auxClockEnable", "createTimeNamespace", "suspend",
  "startTicking", "stopTicking", "sysClockGettime", "sysClockGetres", "sysGettimeofday",
] as const satisfies readonly (keyof Kernel)[];

export type KernelCall = (typeof KERNEL_CALLS)[number];

/** Calls whose object argument (a timex) the kernel fills in: it travels back to the caller. */
export const FILLS_ARGS: readonly KernelCall[] = ["adjtimex", "clockAdjtime"];

/** host -> worker: a kernel call, or close (not a call: only `KernelWorker.close()` sends it). */
export type CallMessage = { id: number; method: KernelCall; args: unknown[] } | { id: number; close: true };

/** worker -> host: ready once (with the claim its kernel holds), one answer per call, and `fenced` if another kernel adopted the store. */
export type WorkerMessage =
  | { ready: true; view: import("../datastore.ts").View; token: number }
  | { fenced: string }
  | { id: number; result: unknown; args?: unknown[] }
  | { id: number; error: string; errorType?: string };
