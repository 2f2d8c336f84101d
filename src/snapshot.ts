/**
 * VVARSNAP files: real vDSO data pages from a running kernel, the TSC read in
 * the same seqlock window, and the kernel's answers before and after.
 * Format: test/fixtures/vvarsnap/FORMAT.md. Parsing validates every size and
 * offset against the file, so a short or garbage file is a SnapshotError.
 */
import { vdso_pages } from "../assembly/layout.ts";
import type { Timespec } from "./time.ts";

export class SnapshotError extends Error {}

export interface ClockRecord {
  clockId: number;
  /** bit 0 before <= computed, bit 1 computed <= after, bit 2 computed */
  flags: number;
  before: Timespec;
  computed: Timespec;
  after: Timespec;
}

export interface Snapshot {
  version: number;
  /** `[vvar]` pages (time, timens, rng, arch); unreadable ones are zero. */
  vvarPages: Uint8Array;
  nVvarPages: number;
  vvarValidMask: number;
  /** `[vvar_vclock]` pages (pvclock, hvclock). */
  vclockPages: Uint8Array;
  nVclockPages: number;
  vclockValidMask: number;
  /** bit 0: page 0 is a time-namespace page, page 1 the real data. */
  flags: number;
  tsc: bigint;
  seqCs0: number;
  seqCs1: number;
  tzMinuteswest: number;
  tzDsttime: number;
  resHresNs: bigint;
  resCoarseNs: bigint;
  records: ClockRecord[];
}

export const SNAPSHOT_MAGIC = "VVARSNAP";
export const SNAPSHOT_FLAG_TIMENS = 1;
const HEADER_SIZE = 96;
const RECORD_SIZE = 56;
/**
 * The largest file taken as a snapshot: the public ones are 25,088 bytes (a
 * header, 7 records, 6 pages); 64 records of 4 KiB and every page still fit
 * with room to spare. A reader stops here instead of reading on (/dev/zero).
 */
export const MAX_SNAPSHOT_BYTES = 1 << 20;

export function parseSnapshot(bytes: Uint8Array): Snapshot {
  const fail = (why: string): never => {
    throw new SnapshotError(why);
  };
  if (bytes.length > MAX_SNAPSHOT_BYTES) fail(`${bytes.length} bytes: larger than a VVARSNAP file can be (at most ${MAX_SNAPSHOT_BYTES})`);
  if (bytes.length < HEADER_SIZE) fail(`truncated: ${bytes.length} bytes, a VVARSNAP header alone is ${HEADER_SIZE}`);
  const magic = new TextDecoder("latin1").decode(bytes.subarray(0, 8));
  if (magic !== SNAPSHOT_MAGIC) fail(`not a VVARSNAP file (magic ${JSON.stringify(magic)})`);
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => d.getUint32(o, true);
  const version = u32(8);
  if (version !== 1) fail(`unsupported VVARSNAP version ${version} (this reader knows version 1)`);
  const headerSize = u32(12);
  const pageSize = u32(16);
  const nVvar = u32(20);
  const nVclock = u32(28);
  const nClocks = u32(56);
  const recordSize = u32(60);
  const recordsOffset = u32(64);
  const pagesOffset = u32(68);
  if (headerSize < HEADER_SIZE || headerSize > bytes.length) fail(`bad header_size ${headerSize}`);
  if (pageSize !== vdso_pages.PAGE_SIZE) fail(`page_size ${pageSize}; the x86_64 layout needs ${vdso_pages.PAGE_SIZE}`);
  if (nVvar < 1 || nVvar > vdso_pages.VDSO_NR_PAGES) fail(`n_vvar_pages ${nVvar} is not 1..${vdso_pages.VDSO_NR_PAGES}`);
  if (nVclock > vdso_pages.VDSO_NR_VCLOCK_PAGES) fail(`n_vclock_pages ${nVclock} is more than ${vdso_pages.VDSO_NR_VCLOCK_PAGES}`);
  if (recordSize < RECORD_SIZE) fail(`clock_record_size ${recordSize} is below ${RECORD_SIZE}`);
  if (nClocks > 64) fail(`n_clocks ${nClocks} is implausible`);
  const recordsEnd = recordsOffset + nClocks * recordSize;
  if (recordsOffset < headerSize || recordsEnd > bytes.length) fail(`truncated: clock records end at ${recordsEnd}, file has ${bytes.length} bytes`);
  const pagesEnd = pagesOffset + (nVvar + nVclock) * pageSize;
  if (pagesOffset < recordsEnd || pagesEnd > bytes.length) fail(`truncated: pages end at ${pagesEnd}, file has ${bytes.length} bytes`);

  const ts = (o: number): Timespec => ({ sec: d.getBigInt64(o, true), nsec: d.getBigInt64(o + 8, true) });
  const records: ClockRecord[] = [];
  for (let i = 0; i < nClocks; i++) {
    const o = recordsOffset + i * recordSize;
    records.push({ clockId: d.getInt32(o, true), flags: u32(o + 4), before: ts(o + 8), computed: ts(o + 24), after: ts(o + 40) });
  }
  const vclockStart = pagesOffset + nVvar * pageSize;
  return {
    version,
    vvarPages: bytes.slice(pagesOffset, vclockStart),
    nVvarPages: nVvar,
    vvarValidMask: u32(24),
    vclockPages: bytes.slice(vclockStart, pagesEnd),
    nVclockPages: nVclock,
    vclockValidMask: u32(32),
    flags: u32(36),
    tsc: d.getBigUint64(40, true),
    seqCs0: u32(48),
    seqCs1: u32(52),
    tzMinuteswest: d.getInt32(72, true),
    tzDsttime: d.getInt32(76, true),
    resHresNs: d.getBigUint64(80, true),
    resCoarseNs: d.getBigUint64(88, true),
    records,
  };
}
