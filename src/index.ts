/**
 * wasm-vdso: the public API (the README's "API" section lists every name;
 * test/api.test.ts pins the list). A kernel writes a data store; readers,
 * in any thread, read it.
 */
// The kernel side: writes the pages.
export { Kernel, type KernelOptions, type CounterMode } from "./kernel/kernel.ts";
export { VirtualClocksource, type Clocksource } from "./kernel/clocksource.ts";
export type { TimeNamespace } from "./kernel/timens.ts";
export * as ntp from "./kernel/timex.ts";
export { KernelWorker, type KernelWorkerOptions } from "./workers/kernel.ts";
export type { KernelCall } from "./workers/protocol.ts";
// The pages, and the memory they live in.
export * as layout from "../assembly/layout.ts";
export { storeMemory, type View } from "./datastore.ts";
export type { Timespec, TimespecInput } from "./time.ts";
// Readers: the wasm vDSO.
export { createReader, Reader, type ReaderOptions, type ReaderSource, type ReaderStatus } from "./reader.ts";
export type { ClockResult } from "./wasm.ts";
export {
  wasiClockImports, wasiClockImportsNoJs, wasiImports, createWasiProvider, type WasiClockImports, type WasiOptions, type WasiProvider,
  type WasiProviderOptions, type WasiImports, type PollStats, type Seed,
} from "./wasi.ts";
export { wasiClockImportsAdapter, hasMultiMemory, wasiAdapterPath, type WasiAdapterPath } from "./wasi-adapter.ts";
// AssemblyScript programs that compile the reader in (wasm-vdso/assembly/lib), against a store.
export { instantiateProgram, closeProgram, type ProgramOptions } from "./program.ts";
// Real kernel pages, replayed.
export { Replay, checkRecords, type ClockAnswer } from "./replay.ts";
export { parseSnapshot, SnapshotError, type Snapshot } from "./snapshot.ts";
// PTP: linuxptp's servo and a simulated chain onto the aux clocks.
export { PtpSimulation, defaultClock, type ClockConfig, type Sample, type SimOptions } from "./ptp/sim.ts";
export { PiServo, piGains, ServoState, type PiConfig } from "./ptp/servo.ts";
export { runPtp, seededClocks } from "./ptp/run.ts";
