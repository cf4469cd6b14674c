// probe: prints the identification and feature registers a guest sees (GICD/GICR/GITS TYPER, ICC_CTLR,
// CNTFRQ, ...). Not a test: its output is implementation-specific by design. It is how the facts about
// QEMU's virt in docs/guests.md were measured, and shows what `vgic run` reports for the same registers.
#include "guest.h"

int main(void) {
  printf("GICD_CTLR=0x%x GICD_TYPER=0x%x GICD_IIDR=0x%x\n", r32(GICD_BASE + GICD_CTLR), r32(GICD_BASE + GICD_TYPER),
         r32(GICD_BASE + 8));
  for (unsigned c = 0; c < NCPUS; c++)
    printf("GICR%u: TYPER=0x%lx CTLR=0x%x\n", c, r64(gicr_rd(c) + GICR_TYPER), r32(gicr_rd(c) + GICR_CTLR));
  printf("GITS_TYPER=0x%lx GITS_IIDR=0x%x\n", r64(GITS_BASE + GITS_TYPER), r32(GITS_BASE + GITS_IIDR));
  for (unsigned n = 0; n < 8; n++) printf("GITS_BASER%u=0x%lx\n", n, r64(GITS_BASE + GITS_BASER + 8 * n));
  printf("ICC_CTLR_EL1=0x%lx ICC_SRE_EL1=0x%lx ICC_BPR1_EL1(min)=%lu ICC_PMR_EL1(0xff)=0x%lx\n",
         READ_SYSREG(icc_ctlr_el1), READ_SYSREG(icc_sre_el1), READ_SYSREG(icc_bpr1_el1), READ_SYSREG(icc_pmr_el1));
  printf("CurrentEL=0x%lx MPIDR_EL1=0x%lx CNTFRQ_EL0=%lu SCTLR_EL1=0x%lx\n", READ_SYSREG(CurrentEL),
         READ_SYSREG(mpidr_el1), READ_SYSREG(cntfrq_el0), READ_SYSREG(sctlr_el1));
  printf("smp_start: %d\n", smp_start());
  printf("its_init: %d\n", its_init());
  for (unsigned n = 0; n < 8; n++) printf("GITS_BASER%u=0x%lx (after its_init)\n", n, r64(GITS_BASE + GITS_BASER + 8 * n));
  printf("GITS_CBASER=0x%lx GITS_CTLR=0x%x\n", r64(GITS_BASE + GITS_CBASER), r32(GITS_BASE + GITS_CTLR));
  return 0;
}
