// Entry, secondary entry and exception vectors of the machine's test images.
// CPU 0 enters at _start (x0 = DTB); secondaries at secondary_entry with x0 = their index
// (PSCI CPU_ON context_id), so no image needs MPIDR to know who it is.
  .section .text.start, "ax"
  .globl _start
_start:
  ldr x1, =__bss_start
  ldr x2, =__bss_end
1: cmp x1, x2
  b.hs 2f
  str xzr, [x1], #8
  b 1b
2: mov x0, #0
  // fall through: CPU 0 is index 0

  .globl secondary_entry
secondary_entry:
  ldr x1, =stacks
  add x2, x0, #1
  add x1, x1, x2, lsl #12
  mov sp, x1
  adr x1, vectors
  msr vbar_el1, x1
  isb
  bl cpu_main
3: wfi
  b 3b

  .globl hvc_call
hvc_call:            // x0..x3 in, x0 out (PSCI over HVC, DEN0022)
  hvc #0
  ret

.macro ventry handler
  .balign 0x80
  stp x29, x30, [sp, #-16]!
  bl save_and_call_\handler
  ldp x29, x30, [sp], #16
  eret
.endm

.macro trampoline handler
save_and_call_\handler:
  stp x0, x1, [sp, #-16]!
  stp x2, x3, [sp, #-16]!
  stp x4, x5, [sp, #-16]!
  stp x6, x7, [sp, #-16]!
  stp x8, x9, [sp, #-16]!
  stp x10, x11, [sp, #-16]!
  stp x12, x13, [sp, #-16]!
  stp x14, x15, [sp, #-16]!
  stp x16, x17, [sp, #-16]!
  stp x18, x30, [sp, #-16]!
  bl \handler
  ldp x18, x30, [sp], #16
  ldp x16, x17, [sp], #16
  ldp x14, x15, [sp], #16
  ldp x12, x13, [sp], #16
  ldp x10, x11, [sp], #16
  ldp x8, x9, [sp], #16
  ldp x6, x7, [sp], #16
  ldp x4, x5, [sp], #16
  ldp x2, x3, [sp], #16
  ldp x0, x1, [sp], #16
  ret
.endm

  .balign 2048
vectors:
  ventry bad_exception   // current EL, SP_EL0: sync
  ventry bad_exception   //   irq
  ventry bad_exception   //   fiq
  ventry bad_exception   //   serror
  ventry sync_exception  // current EL, SP_ELx: sync
  ventry irq_exception   //   irq
  ventry bad_exception   //   fiq
  ventry bad_exception   //   serror
  .balign 0x80
  .rept 8
  ventry bad_exception   // lower EL
  .endr

  trampoline bad_exception
  trampoline sync_exception
  trampoline irq_exception
