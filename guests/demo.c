// demo (`make run`): four vCPUs, devices mapped on the ITS, MSIs, and where each interrupt landed.
#include "guest.h"

int main(void) {
  printf("vgic demo: GICv3 + ITS, 4 CPUs\n");
  if (smp_start() != 0) return 0;
  printf("all 4 CPUs online\n");
  lpi_init();
  if (its_init() != 0) return 0;
  printf("ITS enabled: device table, collection table, command queue\n");
  for (unsigned c = 0; c < NCPUS; c++) its_mapc((uint16_t)c, c);
  printf("collections 0..3 mapped to CPUs 0..3 (MAPC)\n");

  // Device 0 is what a CPU's write to GITS_TRANSLATER is on virt: its event e -> LPI 8192+e -> CPU e%4.
  its_mapd(0, 4);
  for (uint32_t e = 0; e < 8; e++) {
    its_mapti(0, e, LPI_BASE + e, (uint16_t)(e % 4));
    lpi_config(LPI_BASE + e, 0xA0, 1);
  }
  // Devices 1..3 (a NIC, a disk, a timer block) raise their events through INT commands.
  static const char* const names[] = {"cpu-msi", "nic", "disk", "timer"};
  for (uint32_t d = 1; d < 4; d++) {
    its_mapd(d, 2);
    for (uint32_t e = 0; e < 2; e++) {
      uint32_t lpi = LPI_BASE + 16 * d + e;
      its_mapti(d, e, lpi, (uint16_t)((d + e) % 4));
      lpi_config(lpi, 0xA0, 1);
    }
  }
  for (unsigned c = 0; c < NCPUS; c++) its_invall((uint16_t)c);
  its_sync(0);
  printf("devices 0..3 mapped (MAPD), events mapped to LPIs (MAPTI)\n");

  unsigned delivered = 0, expected_total = 0;
  for (uint32_t e = 0; e < 8; e++) {
    uint32_t lpi = LPI_BASE + e;
    its_msi(e);
    expected_total++;
    int cpu = -1;
    if (wait_delivered(lpi, 1)) irq_where(lpi, &cpu), delivered++;
    printf("MSI  device 0 (%s) event %u -> LPI %u -> cpu %d\n", names[0], e, lpi, cpu);
  }
  for (uint32_t d = 1; d < 4; d++)
    for (uint32_t e = 0; e < 2; e++) {
      uint32_t lpi = LPI_BASE + 16 * d + e;
      its_int(d, e);
      expected_total++;
      int cpu = -1;
      if (wait_delivered(lpi, 1)) irq_where(lpi, &cpu), delivered++;
      printf("INT  device %u (%s) event %u -> LPI %u -> cpu %d\n", d, names[d], e, lpi, cpu);
    }
  settle();
  unsigned right = 0;
  for (uint32_t e = 0; e < 8; e++) right += irq_count(e % 4, LPI_BASE + e) == 1;
  for (uint32_t d = 1; d < 4; d++)
    for (uint32_t e = 0; e < 2; e++) right += irq_count((d + e) % 4, LPI_BASE + 16 * d + e) == 1;
  for (unsigned c = 0; c < NCPUS; c++) printf("cpu %u took %u interrupts\n", c, irq_total(c));
  check(delivered == expected_total && right == expected_total, "%u of %u interrupts delivered once, each on its collection's CPU",
        right, expected_total);
  summary("demo");
  return 0;
}
