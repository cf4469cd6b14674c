// A guest that never ends: the watchdog must stop it.
  .section .text.start, "ax"
  .globl _start
_start:
  b _start
