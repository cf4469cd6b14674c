// direct_lpi: LPIs without an ITS, through the redistributors' DirectLPI registers (IHI0069 5.1.3 and
// 12.11: GICR_SETLPIR, GICR_CLRLPIR, GICR_INVLPIR, GICR_INVALLR, GICR_SYNCR). QEMU 7.2 does not
// implement DirectLPI (GICR_TYPER.DirectLPI = 0): there the guest reports that and stops, and only
// `vgic run --direct-lpi` is compared with the expected file (docs/guests.md).
#include "guest.h"

static void setlpir(unsigned cpu, uint32_t intid) { w64(gicr_rd(cpu) + GICR_SETLPIR, intid); dsb(); }
static void clrlpir(unsigned cpu, uint32_t intid) { w64(gicr_rd(cpu) + GICR_CLRLPIR, intid); dsb(); }
static int invlpir(unsigned cpu, uint32_t intid) {
  w64(gicr_rd(cpu) + GICR_INVLPIR, intid);
  dsb();
  return gicr_wait_sync(cpu);
}
static int invallr(unsigned cpu) {
  w64(gicr_rd(cpu) + GICR_INVALLR, 0);
  dsb();
  return gicr_wait_sync(cpu);
}

static void expect_on(uint32_t lpi, uint32_t mask, const char* what) {
  int ok = 1;
  for (unsigned c = 0; c < NCPUS; c++)
    if (mask & (1u << c)) ok &= WAIT_UNTIL(irq_count(c, lpi) >= 1);
  settle();
  uint32_t where = cpus_that_took(lpi);
  int once = 1;
  for (unsigned c = 0; c < NCPUS; c++) once &= irq_count(c, lpi) == ((mask >> c) & 1);
  printf("%s: LPI %u -> %s\n", what, lpi, cpu_set_str(where));
  check(ok && once, "LPI %u taken once by %s", lpi, cpu_set_str(mask));
}
static void expect_none(uint32_t lpi, const char* what) {
  settle();
  int c;
  check(irq_where(lpi, &c) == 0, "%s: LPI %u not taken", what, lpi);
}

int main(void) {
  printf("direct_lpi: LPIs through GICR_SETLPIR and friends, no ITS\n");
  unsigned have = 0;
  for (unsigned c = 0; c < NCPUS; c++) have += (r64(gicr_rd(c) + GICR_TYPER) >> 3) & 1;
  if (have != NCPUS) {
    printf("GICR_TYPER.DirectLPI = 0 on %u of %u redistributors: DirectLPI not implemented, nothing to test\n",
           NCPUS - have, NCPUS);
    printf("direct_lpi: SKIP\n");
    return 0;
  }
  if (smp_start() != 0) return 0;
  lpi_init();
  for (uint32_t i = 0; i < 8; i++) lpi_config(LPI_BASE + i, 0xA0, 1);
  for (unsigned c = 0; c < NCPUS; c++) check(invallr(c) == 0, "GICR_INVALLR on cpu %u, GICR_SYNCR.Busy = 0", c);

  printf("-- GICR_SETLPIR on each redistributor\n");
  for (unsigned c = 0; c < NCPUS; c++) {
    setlpir(c, LPI_BASE + c);
    expect_on(LPI_BASE + c, 1u << c, "SETLPIR");
  }

  printf("-- the same LPI pended on two redistributors\n");
  irq_reset();
  setlpir(0, 8199);
  setlpir(2, 8199);
  expect_on(8199, (1u << 0) | (1u << 2), "SETLPIR on cpus 0 and 2");

  printf("-- disabled LPI 8196: pending kept, delivered after enable + GICR_INVLPIR\n");
  irq_reset();
  lpi_config(8196, 0xA0, 0);
  check(invlpir(1, 8196) == 0, "GICR_INVLPIR, GICR_SYNCR.Busy = 0");
  setlpir(1, 8196);
  expect_none(8196, "disabled");
  lpi_config(8196, 0xA0, 1);
  invlpir(1, 8196);
  expect_on(8196, 1u << 1, "re-enabled");

  printf("-- GICR_CLRLPIR removes the pending state of disabled LPI 8197\n");
  irq_reset();
  lpi_config(8197, 0xA0, 0);
  invlpir(2, 8197);
  setlpir(2, 8197);
  clrlpir(2, 8197);
  lpi_config(8197, 0xA0, 1);
  invlpir(2, 8197);
  expect_none(8197, "after CLRLPIR and re-enable");
  setlpir(2, 8197);
  expect_on(8197, 1u << 2, "SETLPIR again");

  printf("-- GICR_INVALLR picks up a re-enabled LPI 8198\n");
  irq_reset();
  lpi_config(8198, 0xA0, 0);
  invallr(3);
  setlpir(3, 8198);
  expect_none(8198, "disabled");
  lpi_config(8198, 0xA0, 1);
  check(invallr(3) == 0, "GICR_INVALLR, GICR_SYNCR.Busy = 0");
  expect_on(8198, 1u << 3, "re-enabled");

  printf("-- SETLPIR to a redistributor whose CPU masks the priority (PMR)\n");
  irq_reset();
  lpi_config(8192, 0x80, 1);
  invlpir(0, 8192);
  WRITE_SYSREG(icc_pmr_el1, 0x80);
  isb();
  setlpir(0, 8192);
  delay(100000);
  check(irq_count(0, 8192) == 0, "LPI 8192 (priority 0x80) held off by PMR 0x80");
  WRITE_SYSREG(icc_pmr_el1, 0xff);
  isb();
  expect_on(8192, 1u << 0, "PMR 0xff");

  unsigned sp = 0;
  for (unsigned c = 0; c < NCPUS; c++) sp += spurious_count[c];
  check(sp == 0, "no spurious acknowledges");
  summary("direct_lpi");
  return 0;
}
