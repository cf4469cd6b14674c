// ITS driver: GITS_BASER tables, the command queue (GITS_CBASER/CWRITER/CREADR) and command builders.
// Command encodings: Arm IHI0069 6.3 (ITS command descriptions), one 32-byte command = 4 doublewords.
#include "guest.h"

#define CMDQ_SIZE 4096u
static uint64_t cmdq[CMDQ_SIZE / 8] __attribute__((aligned(65536)));
static uint8_t its_tables[8][65536] __attribute__((aligned(65536)));  // one 64 KiB table per BASER
static uint8_t itt_pool[512 * 1024] __attribute__((aligned(256)));
static size_t itt_used;
static uint32_t cwriter;
static uint64_t typer;

int its_init(void) {
  typer = r64(GITS_BASE + GITS_TYPER);
  w32(GITS_BASE + GITS_CTLR, 0);
  if (!WAIT_UNTIL(r32(GITS_BASE + GITS_CTLR) & (1u << 31))) printf("FAIL: ITS not quiescent\n");
  for (unsigned n = 0; n < 8; n++) {
    uintptr_t a = GITS_BASE + GITS_BASER + n * 8;
    uint64_t v = r64(a);
    unsigned type = (unsigned)(v >> 56) & 7;
    if (type == 0) continue;
    // Flat table, 4 KiB pages, 16 pages: enough for the device IDs and collections the guests use.
    uint64_t nv = (1ul << 63) | (v & (7ul << 56)) | (v & (0x1ful << 48)) | (uintptr_t)its_tables[n] | (0ul << 8) | 15;
    w64(a, nv);
    if (!(r64(a) >> 63)) printf("FAIL: GITS_BASER%u (type %u) not valid\n", n, type);
  }
  w64(GITS_BASE + GITS_CBASER, (1ul << 63) | (uintptr_t)cmdq | (CMDQ_SIZE / 4096 - 1));
  w64(GITS_BASE + GITS_CWRITER, 0);
  cwriter = 0;
  dsb();
  w32(GITS_BASE + GITS_CTLR, 1);
  dsb();
  if (!(r32(GITS_BASE + GITS_CTLR) & 1)) {
    printf("FAIL: GITS_CTLR.Enabled = 0\n");
    return -1;
  }
  return 0;
}

uint64_t its_rdbase(unsigned cpu) {
  if ((typer >> 19) & 1) return (gicr_rd(cpu) >> 16);  // PTA: RDbase = physical address [51:16]
  return (r64(gicr_rd(cpu) + GICR_TYPER) >> 8) & 0xffff;  // Processor_Number
}

static int its_cmd(uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3, const char* what) {
  uint64_t* c = &cmdq[cwriter / 8];
  c[0] = d0, c[1] = d1, c[2] = d2, c[3] = d3;
  dsb();
  cwriter = (cwriter + 32) % CMDQ_SIZE;
  w64(GITS_BASE + GITS_CWRITER, cwriter);
  dsb();
  if (!WAIT_UNTIL((r64(GITS_BASE + GITS_CREADR) & 0xfffe0) == cwriter)) {
    printf("FAIL: ITS did not consume %s (CREADR=0x%lx CWRITER=0x%x)\n", what, r64(GITS_BASE + GITS_CREADR),
           cwriter);
    return -1;
  }
  return 0;
}
#define DEV(d) ((uint64_t)(d) << 32)

int its_mapd(uint32_t dev, unsigned event_bits) {
  unsigned esz = (unsigned)((typer >> 4) & 0xf) + 1;
  size_t bytes = ((size_t)esz << event_bits);
  bytes = (bytes + 255) & ~(size_t)255;
  if (itt_used + bytes > sizeof itt_pool) {
    printf("FAIL: ITT pool exhausted\n");
    return -1;
  }
  uintptr_t itt = (uintptr_t)&itt_pool[itt_used];
  itt_used += bytes;
  return its_cmd(0x08 | DEV(dev), event_bits - 1, (1ul << 63) | (itt & 0xffffffffff00ul), 0, "MAPD");
}
int its_unmapd(uint32_t dev) { return its_cmd(0x08 | DEV(dev), 0, 0, 0, "MAPD(V=0)"); }
int its_mapc(uint16_t icid, unsigned cpu) {
  return its_cmd(0x09, 0, (1ul << 63) | (its_rdbase(cpu) << 16) | icid, 0, "MAPC");
}
int its_unmapc(uint16_t icid) { return its_cmd(0x09, 0, icid, 0, "MAPC(V=0)"); }
int its_mapti(uint32_t dev, uint32_t event, uint32_t intid, uint16_t icid) {
  return its_cmd(0x0a | DEV(dev), event | ((uint64_t)intid << 32), icid, 0, "MAPTI");
}
int its_mapi(uint32_t dev, uint32_t event, uint16_t icid) {
  return its_cmd(0x0b | DEV(dev), event, icid, 0, "MAPI");
}
int its_int(uint32_t dev, uint32_t event) { return its_cmd(0x03 | DEV(dev), event, 0, 0, "INT"); }
int its_clear(uint32_t dev, uint32_t event) { return its_cmd(0x04 | DEV(dev), event, 0, 0, "CLEAR"); }
int its_inv(uint32_t dev, uint32_t event) { return its_cmd(0x0c | DEV(dev), event, 0, 0, "INV"); }
int its_invall(uint16_t icid) { return its_cmd(0x0d, 0, icid, 0, "INVALL"); }
int its_movi(uint32_t dev, uint32_t event, uint16_t icid) {
  return its_cmd(0x01 | DEV(dev), event, icid, 0, "MOVI");
}
int its_discard(uint32_t dev, uint32_t event) { return its_cmd(0x0f | DEV(dev), event, 0, 0, "DISCARD"); }
int its_sync(unsigned cpu) { return its_cmd(0x05, 0, its_rdbase(cpu) << 16, 0, "SYNC"); }
int its_movall(unsigned from, unsigned to) {
  return its_cmd(0x0e, 0, its_rdbase(from) << 16, its_rdbase(to) << 16, "MOVALL");
}

void its_msi(uint32_t event) {
  dsb();
  w32(GITS_BASE + GITS_TRANSLATER, event);
  dsb();
}
