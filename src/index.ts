/** wasm-vdso: the public API. */
export { Vdso, type Build, type ClockResult, type Syscalls, type Timespec, type View } from "./wasm.ts";
export { DataStore } from "./datastore.ts";
export { Kernel, type KernelOptions, type AuxClock } from "./kernel/kernel.ts";
export { hostClocksource, VirtualClocksource, type Clocksource } from "./kernel/clocksource.ts";
export * from "./kernel/ntp.ts";
export type { TimeNamespace } from "./kernel/timens.ts";
export type { Timespec64 } from "./kernel/time.ts";
export { Replay, checkRecords, type ClockAnswer } from "./replay.ts";
export { parseSnapshot, SnapshotError, type Snapshot } from "./snapshot.ts";
export * as layout from "../assembly/layout.ts";
export { KernelWorker } from "./kernel/worker.ts";
export { createReader } from "./reader.ts";
export { SharedCounterClocksource } from "./kernel/clocksource.ts";
export { sharedMemory } from "./wasm.ts";
export { wasiClockImports, wasiClockImportsNoJs, type WasiClockImports } from "./wasi.ts";
