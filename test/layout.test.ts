// The layout table against linux-vdso.md §1 (numbers verified on a 6.18 x86_64 kernel),
// and the wasm's own copy of it against the host's.
import { describe, expect, it } from "vitest";
import * as L from "../assembly/layout.ts";
import { Vdso } from "../src/wasm.ts";
import { RecordingSyscalls } from "./helpers/pages.ts";
import { testingExports } from "./helpers/testing.ts";

describe("layout table (datapage.h, x86_64, 6.17+)", () => {
  it("pages", () => {
    expect(L.vdso_pages).toMatchObject({ PAGE_SIZE: 4096, VDSO_TIME_PAGE_OFFSET: 0, VDSO_TIMENS_PAGE_OFFSET: 1, VDSO_RNG_PAGE_OFFSET: 2, VDSO_ARCH_PAGES_START: 3, VDSO_NR_PAGES: 4 });
  });

  it("struct vdso_clock: 232 bytes with max_cycles", () => {
    expect(L.vdso_clock).toMatchObject({ seq: 0, clock_mode: 4, cycle_last: 8, max_cycles: 16, mask: 24, mult: 32, shift: 36, basetime: 40, SIZE: 232 });
    expect(L.vdso_timestamp).toMatchObject({ sec: 0, nsec: 8, SIZE: 16 });
  });

  it("struct vdso_time_data: aux clocks at 464, tz at 2320, size 2368", () => {
    expect(L.vdso_time_data).toMatchObject({ clock_data: 0, aux_clock_data: 464, tz_minuteswest: 2320, tz_dsttime: 2324, hrtimer_res: 2328, __unused: 2332, SIZE: 2368 });
  });

  it("hot absolute offsets of page 0", () => {
    const bt = (cs: number, clock: number) => cs * L.vdso_clock.SIZE + L.vdso_clock.basetime + 16 * clock;
    expect(bt(0, L.CLOCK_REALTIME)).toBe(0x028);
    expect(bt(0, L.CLOCK_MONOTONIC)).toBe(0x038);
    expect(bt(0, L.CLOCK_REALTIME_COARSE)).toBe(0x078);
    expect(bt(0, L.CLOCK_MONOTONIC_COARSE)).toBe(0x088);
    expect(bt(0, L.CLOCK_BOOTTIME)).toBe(0x098);
    expect(bt(0, L.CLOCK_TAI)).toBe(0x0d8);
    expect(L.vdso_clock.SIZE + L.vdso_clock.mult).toBe(0x108);
    expect(L.vdso_clock.SIZE + L.vdso_clock.shift).toBe(0x10c);
    expect(bt(1, L.CLOCK_MONOTONIC_RAW)).toBe(0x150);
    for (let n = 0; n < 8; n++) {
      expect(L.vdso_time_data.aux_clock_data + n * L.vdso_clock.SIZE).toBe(0x1d0 + 0xe8 * n);
      expect(L.vdso_time_data.aux_clock_data + n * L.vdso_clock.SIZE + L.vdso_clock.basetime).toBe(0x1f8 + 0xe8 * n);
    }
  });

  it("struct vdso_rng_data", () => {
    expect(L.vdso_rng_data.generation).toBe(0);
    expect(L.vdso_rng_data.is_ready).toBe(8);
  });

  it("clock ids, masks, modes, constants", () => {
    expect([L.CLOCK_REALTIME, L.CLOCK_MONOTONIC, L.CLOCK_PROCESS_CPUTIME_ID, L.CLOCK_THREAD_CPUTIME_ID,
      L.CLOCK_MONOTONIC_RAW, L.CLOCK_REALTIME_COARSE, L.CLOCK_MONOTONIC_COARSE, L.CLOCK_BOOTTIME,
      L.CLOCK_REALTIME_ALARM, L.CLOCK_BOOTTIME_ALARM, L.CLOCK_SGI_CYCLE, L.CLOCK_TAI]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(L.MAX_CLOCKS).toBe(16);
    expect(L.CLOCK_AUX).toBe(16);
    expect(L.MAX_AUX_CLOCKS).toBe(8);
    expect(L.CLOCK_AUX_LAST).toBe(23);
    expect(L.VDSO_BASES).toBe(12);
    expect(L.VDSO_BASE_AUX).toBe(0);
    expect(L.VDSO_HRES).toBe(0x883);
    expect(L.VDSO_COARSE).toBe(0x60);
    expect(L.VDSO_RAW).toBe(0x10);
    expect(L.VDSO_AUX).toBe(0xff0000);
    expect([L.CS_HRES_COARSE, L.CS_RAW, L.CS_BASES]).toEqual([0, 1, 2]);
    expect(L.vdso_clock_mode.NONE).toBe(0);
    expect(L.vdso_clock_mode.TSC).toBe(1);
    expect(L.vdso_clock_mode.PVCLOCK).toBe(2);
    expect(L.vdso_clock_mode.HVCLOCK).toBe(3);
    expect(L.vdso_clock_mode.TIMENS).toBe(0x7fffffff);
    expect(L.LOW_RES_NSEC).toBe(4_000_000);
    expect([L.EINVAL, L.ENODEV, L.EFAULT, L.ENOSYS]).toEqual([22, 19, 14, 38]);
    expect(L.pvclock_vcpu_time_info.tsc_timestamp).toBe(8);
    expect(L.pvclock_vcpu_time_info.system_time).toBe(16);
    expect(L.pvclock_vcpu_time_info.tsc_to_system_mul).toBe(24);
    expect(L.pvclock_vcpu_time_info.tsc_shift).toBe(28);
    expect(L.pvclock_vcpu_time_info.flags).toBe(29);
  });

  it("every field a reader loads atomically is naturally aligned (a wasm atomic load traps otherwise)", () => {
    // [offset, width] from the start of a page (pages are page-aligned: view.ts refuses others).
    const fields: [string, number, number][] = [];
    const clock = (name: string, at: number) => {
      for (const f of ["seq", "clock_mode", "mult", "shift"] as const) fields.push([`${name}.${f}`, at + L.vdso_clock[f], 4]);
      for (const f of ["cycle_last", "max_cycles"] as const) fields.push([`${name}.${f}`, at + L.vdso_clock[f], 8]);
      for (let b = 0; b < L.VDSO_BASES; b++) fields.push([`${name}.basetime[${b}]`, at + L.vdso_clock.basetime + b * L.vdso_timestamp.SIZE, 8]);
    };
    for (let cs = 0; cs < L.CS_BASES; cs++) clock(`clock_data[${cs}]`, L.vdso_time_data.clock_data + cs * L.vdso_clock.SIZE);
    for (let n = 0; n < L.MAX_AUX_CLOCKS; n++) clock(`aux_clock_data[${n}]`, L.vdso_time_data.aux_clock_data + n * L.vdso_clock.SIZE);
    // The shadow copy's blocks, copied word by word under their seq (pageclock.ts).
    clock("shadow.clock_data[0]", L.vdso_arch_data.shadow);
    fields.push(
      ["hrtimer_res", L.vdso_time_data.hrtimer_res, 4],
      ["rng.generation", L.vdso_rng_data.generation, 8],
      ["arch.counter", L.vdso_arch_data.counter, 8],
      ["pvclock.version", L.pvclock_vcpu_time_info.version, 4],
      ["pvclock.tsc_timestamp", L.pvclock_vcpu_time_info.tsc_timestamp, 8],
      ["pvclock.system_time", L.pvclock_vcpu_time_info.system_time, 8],
      ["pvclock.tsc_to_system_mul", L.pvclock_vcpu_time_info.tsc_to_system_mul, 4],
      ["hvclock.tsc_sequence", L.ms_hyperv_tsc_page.tsc_sequence, 4],
      ["hvclock.tsc_scale", L.ms_hyperv_tsc_page.tsc_scale, 8],
      ["hvclock.tsc_offset", L.ms_hyperv_tsc_page.tsc_offset, 8],
    );
    expect(fields.filter(([, at, width]) => at % width !== 0).map(([name]) => name)).toEqual([]);
    expect(L.vdso_clock.SIZE % 8).toBe(0);
  });

  it("the store, the reader slots, the static data and user memory follow each other in that order", async () => {
    const vdso = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls() });
    expect(L.STORE_START % L.vdso_pages.PAGE_SIZE).toBe(0);
    expect(L.STORE_END % L.vdso_pages.PAGE_SIZE).toBe(0);
    expect(L.READER_SLOTS).toBe(L.STORE_END);
    expect(L.DATA_START).toBe(L.READER_SLOTS + L.MAX_READER_SLOTS * L.READER_SLOT_SIZE);
    expect(L.USER_START).toBe(2 * 1024 * 1024);
    expect(L.USER_START).toBeGreaterThan(L.DATA_START);
    expect(L.USER_START % 65536).toBe(0);
    // A reader's slot: past slot 0 (the allocation table), before the static data.
    expect(vdso.scratch).toBeGreaterThanOrEqual(L.READER_SLOTS + L.READER_SLOT_SIZE);
    expect(vdso.scratch + L.READER_SLOT_SIZE).toBeLessThanOrEqual(L.DATA_START);
  });
});

describe("the wasm compiled the same table", () => {
  // The shipped module carries no copy of the layout; the testing build (release
  // plus test primitives) exports it, in both memory flavours.
  for (const shared of [false, true]) {
    it(`testing build (${shared ? "shared" : "plain"} memory) exports equal the host's`, async () => {
      const memory = new WebAssembly.Memory({ initial: 25, maximum: 64, shared });
      const vdso = await Vdso.create({ counter: () => 0n, syscalls: new RecordingSyscalls(), build: "testing", memory });
      const exports = testingExports(vdso) as unknown as Record<string, unknown>;
      const g = (name: string) => (exports[name] as WebAssembly.Global).value;
      const enums = { vdso_clock: L.vdso_clock, vdso_time_data: L.vdso_time_data, vdso_rng_data: L.vdso_rng_data,
        vdso_timestamp: L.vdso_timestamp, vdso_pages: L.vdso_pages, vdso_clock_mode: L.vdso_clock_mode, vdso_arch_data: L.vdso_arch_data,
        reader_slot: L.reader_slot, vgetrandom_state: L.vgetrandom_state, vgetrandom_opaque_params: L.vgetrandom_opaque_params,
        wasi_errno: L.wasi_errno };
      let checked = 0;
      for (const [name, e] of Object.entries(enums)) {
        for (const [k, v] of Object.entries(e)) {
          if (typeof v !== "number") continue; // reverse mappings of numeric enums
          expect(g(`${name}.${k}`), `${name}.${k}`).toBe(v);
          checked++;
        }
      }
      const consts = ["STORE_START", "STORE_END", "READER_SLOTS", "READER_SLOT_SIZE", "MAX_READER_SLOTS", "DATA_START", "USER_START",
        "VDSO_HRES", "VDSO_COARSE", "VDSO_RAW", "VDSO_AUX", "LOW_RES_NSEC"] as const;
      for (const k of consts) {
        expect(g(k), k).toBe(L[k]);
        checked++;
      }
      expect(checked).toBeGreaterThan(70);
    });
  }
});
