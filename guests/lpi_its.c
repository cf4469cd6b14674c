// lpi_its: LPIs through the ITS (IHI0069 chapter 6): MAPD/MAPC/MAPTI/MAPI, INT, MSIs written by a CPU
// to GITS_TRANSLATER (DeviceID 0 on virt), MOVI (with a pending interrupt), disable + INV (pending
// kept), CLEAR, INVALL, DISCARD (pending removed, later MSIs dropped) and a re-mapped collection.
#include "guest.h"

static void expect_on(uint32_t lpi, uint32_t n_before, unsigned cpu, const char* what) {
  int ok = wait_delivered(lpi, n_before + 1);
  settle();
  int c = -1;
  uint32_t n = irq_where(lpi, &c);
  printf("%s: LPI %u -> cpu %d\n", what, lpi, c);
  check(ok && n == n_before + 1 && irq_count(cpu, lpi) >= 1 && cpus_that_took(lpi) == (1u << cpu),
        "LPI %u taken once more, by cpu %u", lpi, cpu);
}
static void expect_none(uint32_t lpi, uint32_t n_before, const char* what) {
  settle();
  int c;
  check(irq_where(lpi, &c) == n_before, "%s: LPI %u not taken", what, lpi);
}

int main(void) {
  printf("lpi_its: LPIs through the ITS\n");
  if (smp_start() != 0) return 0;
  lpi_init();
  if (its_init() != 0) return 0;
  check(((r64(GITS_BASE + GITS_TYPER)) & 1) == 1, "GITS_TYPER.Physical = 1");
  for (unsigned c = 0; c < NCPUS; c++) its_mapc((uint16_t)c, c);

  printf("-- MAPD device 1, MAPTI events 0..3 -> LPIs 8192..8195 -> collections 0..3, INT\n");
  its_mapd(1, 5);
  for (uint32_t e = 0; e < 4; e++) {
    its_mapti(1, e, LPI_BASE + e, (uint16_t)e);
    lpi_config(LPI_BASE + e, 0xA0, 1);
  }
  for (uint32_t e = 0; e < 4; e++) its_inv(1, e);
  its_sync(0);
  for (uint32_t e = 0; e < 4; e++) {
    its_int(1, e);
    expect_on(LPI_BASE + e, 0, e, "INT device 1 event");
  }

  printf("-- MSIs: CPU writes to GITS_TRANSLATER (device 0), events 0..3 -> LPIs 8200..8203\n");
  its_mapd(0, 4);
  for (uint32_t e = 0; e < 4; e++) {
    its_mapti(0, e, 8200 + e, (uint16_t)(3 - e));
    lpi_config(8200 + e, 0xA0, 1);
    its_inv(0, e);
  }
  for (uint32_t e = 0; e < 4; e++) {
    its_msi(e);
    expect_on(8200 + e, 0, 3 - e, "MSI device 0 event");
  }

  printf("-- MOVI device 1 event 1 to collection 3\n");
  irq_reset();
  its_movi(1, 1, 3);
  its_int(1, 1);
  expect_on(8193, 0, 3, "after MOVI, INT");

  printf("-- MOVI of a pending (disabled) LPI: device 1 event 0 from collection 0 to 2\n");
  irq_reset();
  lpi_config(8192, 0xA0, 0);
  its_inv(1, 0);
  its_int(1, 0);
  expect_none(8192, 0, "disabled");
  its_movi(1, 0, 2);
  lpi_config(8192, 0xA0, 1);
  its_inv(1, 0);
  its_sync(2);
  expect_on(8192, 0, 2, "enabled after MOVI");
  its_movi(1, 0, 0);

  printf("-- disable LPI 8194 (property table + INV), INT, re-enable + INV\n");
  irq_reset();
  lpi_config(8194, 0xA0, 0);
  its_inv(1, 2);
  its_sync(2);
  its_int(1, 2);
  expect_none(8194, 0, "while disabled");
  lpi_config(8194, 0xA0, 1);
  its_inv(1, 2);
  expect_on(8194, 0, 2, "pending kept, taken once re-enabled");

  printf("-- CLEAR removes the pending state of LPI 8193\n");
  irq_reset();
  lpi_config(8193, 0xA0, 0);
  its_inv(1, 1);
  its_int(1, 1);
  its_clear(1, 1);
  lpi_config(8193, 0xA0, 1);
  its_inv(1, 1);
  expect_none(8193, 0, "after CLEAR and re-enable");
  its_int(1, 1);
  expect_on(8193, 0, 3, "a new INT");

  printf("-- INVALL: LPI 8192 disabled and re-enabled through collection 0\n");
  irq_reset();
  lpi_config(8192, 0xA0, 0);
  its_invall(0);
  its_sync(0);
  its_int(1, 0);
  expect_none(8192, 0, "disabled via INVALL");
  lpi_config(8192, 0xA0, 1);
  its_invall(0);
  expect_on(8192, 0, 0, "re-enabled via INVALL");

  printf("-- DISCARD device 0 event 3 (LPI 8203, pending while disabled)\n");
  irq_reset();
  lpi_config(8203, 0xA0, 0);
  its_inv(0, 3);
  its_msi(3);
  expect_none(8203, 0, "disabled");
  its_discard(0, 3);
  lpi_config(8203, 0xA0, 1);
  its_invall(0);
  its_sync(0);
  expect_none(8203, 0, "DISCARD removed the pending state");
  its_msi(3);
  expect_none(8203, 0, "MSI to a discarded event is dropped");
  its_mapti(0, 3, 8203, 1);
  its_msi(3);
  expect_on(8203, 0, 1, "re-mapped with MAPTI to collection 1, MSI");

  printf("-- MAPI: device 2 event 8300 is LPI 8300\n");
  irq_reset();
  its_mapd(2, 14);
  its_mapi(2, 8300, 2);
  lpi_config(8300, 0x80, 1);
  its_inv(2, 8300);
  its_int(2, 8300);
  expect_on(8300, 0, 2, "INT device 2 event 8300");

  printf("-- MAPC re-maps collection 3 to cpu 0 (unmapped first)\n");
  irq_reset();
  its_unmapc(3);
  its_mapc(3, 0);
  its_sync(0);
  its_int(1, 3);
  expect_on(8195, 0, 0, "INT device 1 event 3 (collection 3)");

  printf("-- MOVALL: LPI 8194 pending (disabled) on cpu 2 moves to cpu 1 with collection 2\n");
  irq_reset();
  lpi_config(8194, 0xA0, 0);
  its_inv(1, 2);
  its_int(1, 2);
  expect_none(8194, 0, "disabled");
  its_unmapc(2);
  its_mapc(2, 1);
  its_movall(2, 1);
  lpi_config(8194, 0xA0, 1);
  its_invall(2);
  its_sync(1);
  expect_on(8194, 0, 1, "after MAPC + MOVALL, re-enabled");

  printf("-- a burst of 32 MSIs to device 0 events 0..2\n");
  irq_reset();
  its_unmapc(2);
  its_mapc(2, 2);
  its_unmapc(3);
  its_mapc(3, 3);
  for (unsigned i = 0; i < 32; i++) {
    its_msi(i % 3);
    if (!wait_delivered(8200 + i % 3, i / 3 + 1)) printf("  FAIL: MSI %u not delivered\n", i);
  }
  settle();
  check(irq_count(3, 8200) == 11 && irq_count(2, 8201) == 11 && irq_count(1, 8202) == 10,
        "counts: LPI 8200 on cpu 3 = %u, LPI 8201 on cpu 2 = %u, LPI 8202 on cpu 1 = %u", irq_count(3, 8200),
        irq_count(2, 8201), irq_count(1, 8202));

  check((r64(GITS_BASE + GITS_CREADR) & 1) == 0, "GITS_CREADR.Stalled = 0");
  unsigned sp = 0;
  for (unsigned c = 0; c < NCPUS; c++) sp += spurious_count[c];
  check(sp == 0, "no spurious acknowledges");
  summary("lpi_its");
  return 0;
}
