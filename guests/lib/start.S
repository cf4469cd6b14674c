// Guest start-up and exception vectors (EL1, MMU off, SP_EL1).
// CPU 0 enters at _start (x0 = whatever the loader passes; not used). Secondary CPUs are started by
// PSCI CPU_ON at secondary_entry with x0 = context_id = their CPU index (MPIDR is never consulted).
#define STACK_SIZE 0x4000
#define FRAME 192

    .section .text.boot, "ax"
    .global _start
_start:
    msr     daifset, #0xf
    msr     spsel, #1
    // Zero .bss (8-byte aligned, see guest.ld).
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    str     xzr, [x1], #8
    b       1b
2:  mov     x19, #0
    b       common_entry

    .global secondary_entry
secondary_entry:
    msr     daifset, #0xf
    msr     spsel, #1
    mov     x19, x0

common_entry:
    msr     tpidr_el1, x19
    ldr     x1, =__stacks_top
    mov     x2, #STACK_SIZE
    mul     x3, x19, x2
    sub     sp, x1, x3
    ldr     x1, =vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    cbnz    x19, 3f
    bl      guest_cpu0_main
    b       4f
3:  bl      guest_secondary_main
4:  wfi
    b       4b

// --- exception vectors (VBAR_EL1, 2 KiB aligned, 16 entries of 128 bytes)
.macro VENTRY kind
    .balign 0x80
    sub     sp, sp, #FRAME
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       exc_common
.endm

    .text
    .balign 0x800
    .global vectors
vectors:
    VENTRY 0    // current EL, SP_EL0: sync
    VENTRY 1    //   IRQ
    VENTRY 2    //   FIQ
    VENTRY 3    //   SError
    VENTRY 4    // current EL, SP_ELx: sync
    VENTRY 5    //   IRQ
    VENTRY 6    //   FIQ
    VENTRY 7    //   SError
    VENTRY 8    // lower EL, AArch64
    VENTRY 9
    VENTRY 10
    VENTRY 11
    VENTRY 12   // lower EL, AArch32
    VENTRY 13
    VENTRY 14
    VENTRY 15

// x0 = vector kind; the interrupted x0/x1 are already saved. Saves the caller-saved registers and
// ELR/SPSR (so a handler may unmask IRQs and be preempted: nested entries keep their own copies).
exc_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    str     x30, [sp, #160]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #168]
    cmp     x0, #5
    b.ne    5f
    bl      guest_irq_entry
    b       6f
5:  mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      guest_exception_entry      // does not return
6:  msr     daifset, #2
    ldp     x1, x2, [sp, #168]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x29, [sp, #144]
    ldr     x30, [sp, #160]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME
    eret
