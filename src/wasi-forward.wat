;; The forwarding module (source of src/wasi-adapter.ts's FORWARD constant;
;; regenerate with `node src/wasi-adapter.gen.mjs`). The guest imports these
;; three functions before its memory exists; each calls through a table slot.
;; Until the adapter is wired the slots hold lazy functions that call the JS
;; import `wire` once (it instantiates the adapter with the guest's memory and
;; puts its exports in the slots), then call through the slot again; from then
;; on no JS runs on a call. No memory: valid on any engine.
(module
  (type $time (func (param i32 i64 i32) (result i32)))
  (type $two (func (param i32 i32) (result i32)))
  (import "adapter" "wire" (func $wire (result i32)))
  (table $slots (export "slots") 3 3 funcref)
  (elem (table $slots) (i32.const 0) func $lazy_time $lazy_res $lazy_random)

  (func (export "clock_time_get") (type $time)
    (call_indirect $slots (type $time) (local.get 0) (local.get 1) (local.get 2) (i32.const 0)))
  (func (export "clock_res_get") (type $two)
    (call_indirect $slots (type $two) (local.get 0) (local.get 1) (i32.const 1)))
  (func (export "random_get") (type $two)
    (call_indirect $slots (type $two) (local.get 0) (local.get 1) (i32.const 2)))

  ;; `wire` answers 0 (the slots now hold the adapter) or a WASI errno for this call (nothing changed).
  (func $lazy_time (type $time) (local $err i32)
    (local.set $err (call $wire))
    (if (local.get $err) (then (return (local.get $err))))
    (call_indirect $slots (type $time) (local.get 0) (local.get 1) (local.get 2) (i32.const 0)))
  (func $lazy_res (type $two) (local $err i32)
    (local.set $err (call $wire))
    (if (local.get $err) (then (return (local.get $err))))
    (call_indirect $slots (type $two) (local.get 0) (local.get 1) (i32.const 1)))
  (func $lazy_random (type $two) (local $err i32)
    (local.set $err (call $wire))
    (if (local.get $err) (then (return (local.get $err))))
    (call_indirect $slots (type $two) (local.get 0) (local.get 1) (i32.const 2)))
)
