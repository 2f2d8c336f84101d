;; The multi-memory WASI adapter (source of src/wasi-adapter.ts's ADAPTER_*
;; constants; regenerate with `node src/wasi-adapter.gen.mjs`). Two memories:
;; 0 the store's (where the vDSO writes its results), 1 the guest's. It answers
;; clock_time_get, clock_res_get and random_get for a guest with its own memory
;; with no JS on a call: results are stored, or copied (memory.copy between
;; memories), straight into the guest's memory, after a bounds check against
;; its current size (fault, 21). {{STORE}} and {{GUEST}} are the two memory
;; types (plain `0`, or shared `0 65536 shared`): four builds.
(module
  (import "env" "memory" (memory $store {{STORE}}))
  (import "guest" "memory" (memory $guest {{GUEST}}))
  (import "vdso" "wasi_time_ns" (func $time_ns (param i32 i64) (result i64)))
  (import "vdso" "wasi_clock_res_get" (func $res_get (param i32 i32) (result i32)))
  (import "vdso" "wasi_random_get" (func $random_get (param i32 i32) (result i32)))
  ;; In the reader's own slot (store memory): where clock_res_get's answer lands, and random_get's chunk.
  (import "vdso" "res" (global $res i32))
  (import "vdso" "chunk" (global $chunk i32))
  (import "vdso" "chunk_size" (global $chunk_size i32))

  ;; [at, at + len) lies inside the guest's memory (u32s; no overflow in i64).
  (func $inside (param $at i32) (param $len i32) (result i32)
    (i64.le_u
      (i64.add (i64.extend_i32_u (local.get $at)) (i64.extend_i32_u (local.get $len)))
      (i64.shl (i64.extend_i32_u (memory.size $guest)) (i64.const 16))))

  (func (export "clock_time_get") (param $id i32) (param $precision i64) (param $out i32) (result i32)
    (local $t i64)
    (if (i32.eqz (call $inside (local.get $out) (i32.const 8))) (then (return (i32.const 21))))
    (local.set $t (call $time_ns (local.get $id) (local.get $precision)))
    (if (i64.lt_s (local.get $t) (i64.const 0))
      (then (return (i32.wrap_i64 (i64.sub (i64.const 0) (local.get $t))))))
    (i64.store $guest (local.get $out) (local.get $t))
    (i32.const 0))

  (func (export "clock_res_get") (param $id i32) (param $out i32) (result i32)
    (local $err i32)
    (if (i32.eqz (call $inside (local.get $out) (i32.const 8))) (then (return (i32.const 21))))
    (local.set $err (call $res_get (local.get $id) (global.get $res)))
    (if (local.get $err) (then (return (local.get $err))))
    (i64.store $guest (local.get $out) (i64.load $store (global.get $res)))
    (i32.const 0))

  (func (export "random_get") (param $buf i32) (param $len i32) (result i32)
    (local $n i32)
    (local $err i32)
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i32.const 61)))) ;; overflow, as the copy path
    (if (i32.eqz (local.get $len)) (then (return (i32.const 0)))) ;; nothing to write: any pointer, as the copy path
    (if (i32.eqz (call $inside (local.get $buf) (local.get $len))) (then (return (i32.const 21))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $n
          (select (local.get $len) (global.get $chunk_size) (i32.lt_u (local.get $len) (global.get $chunk_size))))
        (local.set $err (call $random_get (global.get $chunk) (local.get $n)))
        (if (local.get $err) (then (br $done)))
        (memory.copy $guest $store (local.get $buf) (global.get $chunk) (local.get $n))
        (local.set $buf (i32.add (local.get $buf) (local.get $n)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $next)))
    ;; Handed out (or failed): the bytes do not stay in the slot.
    (memory.fill $store (global.get $chunk) (i32.const 0) (global.get $chunk_size))
    (local.get $err))
)
