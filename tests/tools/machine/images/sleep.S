// A guest that waits for an interrupt nothing will send, with IRQs masked: a deadlock.
  .section .text.start, "ax"
  .globl _start
_start:
  wfi
  b _start
