/*
 * A minimal embedder of vgic, written in plain C against the installed headers only. The install
 * tests build it three ways (find_package, pkg-config, add_subdirectory) and run it: it must
 * compile warning-free as C, link, and deliver one interrupt end to end.
 */
#include <stdint.h>
#include <stdio.h>

#include <vgic/vgic.h>

#define ICC_PMR_EL1 VGIC_SYSREG(3, 0, 4, 6, 0)
#define ICC_IAR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 0)
#define ICC_EOIR1_EL1 VGIC_SYSREG(3, 0, 12, 12, 1)
#define ICC_IGRPEN1_EL1 VGIC_SYSREG(3, 0, 12, 12, 7)

#define GICD_CTLR 0x0000u
#define GICD_PIDR2 0xFFE8u
#define GICR_WAKER 0x0014u
#define GICR_IGROUPR0 0x10080u
#define GICR_ISENABLER0 0x10100u

static int failures;

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "consumer: FAILED: %s (%s)\n", what, vgic_last_error());
    ++failures;
  }
}

int main(void) {
  vgic_config cfg;
  vgic_config_init(&cfg);
  cfg.nr_cpus = 1;

  char err[256];
  vgic *g = vgic_create(&cfg, err, sizeof err);
  if (!g) {
    fprintf(stderr, "consumer: vgic_create failed: %s\n", err);
    return 1;
  }

  uint64_t v = 0;
  check(vgic_mmio_read(g, cfg.gicd_base + GICD_PIDR2, 4, &v) == VGIC_OK, "read GICD_PIDR2");
  check(((v >> 4) & 0xf) == 3, "GICD_PIDR2.ArchRev is 3 (GICv3)");

  /* Guest driver: distributor Group 1 on, redistributor awake, PPI 27 Group 1 and enabled. */
  check(vgic_mmio_write(g, cfg.gicd_base + GICD_CTLR, 4, 0x2) == VGIC_OK, "write GICD_CTLR");
  check(vgic_mmio_write(g, cfg.gicr_base + GICR_WAKER, 4, 0) == VGIC_OK, "write GICR_WAKER");
  check(vgic_mmio_write(g, cfg.gicr_base + GICR_IGROUPR0, 4, 1u << 27) == VGIC_OK, "write GICR_IGROUPR0");
  check(vgic_mmio_write(g, cfg.gicr_base + GICR_ISENABLER0, 4, 1u << 27) == VGIC_OK, "write GICR_ISENABLER0");
  check(vgic_sysreg_write(g, 0, ICC_PMR_EL1, 0xff) == VGIC_OK, "write ICC_PMR_EL1");
  check(vgic_sysreg_write(g, 0, ICC_IGRPEN1_EL1, 1) == VGIC_OK, "write ICC_IGRPEN1_EL1");

  /* Device: raise the timer PPI; the vCPU's IRQ line must go up, and IAR1 must return 27. */
  check(vgic_set_irq_level(g, 0, 27, 1) == VGIC_OK, "raise PPI 27");
  check(vgic_cpu_lines(g, 0) == VGIC_LINE_IRQ, "IRQ line asserted");
  check(vgic_sysreg_read(g, 0, ICC_IAR1_EL1, &v) == VGIC_OK && v == 27, "ICC_IAR1_EL1 returns 27");
  check(vgic_set_irq_level(g, 0, 27, 0) == VGIC_OK, "lower PPI 27");
  check(vgic_sysreg_write(g, 0, ICC_EOIR1_EL1, 27) == VGIC_OK, "write ICC_EOIR1_EL1");
  check(vgic_cpu_lines(g, 0) == 0, "IRQ line deasserted");

  /* A host error is reported as a negative code with a message. */
  check(vgic_set_irq_level(g, 0, 5, 1) == VGIC_EINVAL, "an SGI has no input line");

  vgic_destroy(g);
  if (failures) return 1;
  printf("consumer: ok\n");
  return 0;
}
