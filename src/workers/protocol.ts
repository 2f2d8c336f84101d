/** The calls a KernelWorker forwards: Kernel methods by name, so a misspelt one or a wrong argument is a type error. */
import type { Kernel } from "../kernel/kernel.ts";

export const KERNEL_CALLS = [
  "tick", "adjtimex", "clockAdjtime", "clockSettime", "settimeofday", "auxClockEnable", "createTimeNamespace", "suspend",
  "startTicking", "stopTicking", "sysClockGettime", "sysClockGetres", "sysGettimeofday",
] as const satisfies readonly (keyof Kernel)[];

export type KernelCall = (typeof KERNEL_CALLS)[number];

/** host -> worker */
export interface CallMessage {
  id: number;
  method: KernelCall | "close";
  args: unknown[];
}

/** worker -> host: ready once, then one answer per call (objects passed come back filled in, as a timex is). */
export type WorkerMessage =
  | { ready: true; view: import("../datastore.ts").View }
  | { id: number; result: unknown; args: unknown[] }
  | { id: number; error: string; errorType?: string };
