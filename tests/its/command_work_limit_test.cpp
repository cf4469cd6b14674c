// The work limit of one command-queue access (Its::process_queue, Its::kWorkPerAccess): MOVALL and
// INVALL cost time in proportion to the LPI state of a redistributor, and a queue full of them
// must not hold the ITS lock for minutes. What is left runs while the driver polls GITS_CREADR,
// as on a hardware ITS that processes commands at its own pace (IHI0069 12.19, GITS_CREADR:
// the offset of the next command the ITS will read). The VMM's read of GITS_CREADR runs nothing.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "support/its_driver.hpp"
#include "support/kvm_attr.hpp"

using namespace test;
using namespace gicv3;

namespace {

constexpr uint32_t GITS_CREADR = 0x90;
constexpr uint32_t kLpis = (1u << 16) - 8192;  // every LPI of the default 16 INTID bits

// CPU 0 with every LPI pending: its pending table is filled while LPIs are off, and read when
// they are enabled again (IHI0069 5.1.2).
void pend_every_lpi(ItsHarness& h, unsigned cpu) {
  h.g.gicr_write(cpu, gicr::CTLR, 0);
  std::memset(h.ram.host(h.its.pend_table(cpu)), 0xff, (1u << 16) / 8);
  h.g.gicr_write(cpu, gicr::CTLR, 1);
}

// LPIs pending on cpu, from its pending table after EnableLPIs is cleared (the write-back).
uint64_t pending_on(ItsHarness& h, unsigned cpu) {
  h.g.gicr_write(cpu, gicr::CTLR, 0);
  const uint8_t* t = static_cast<const uint8_t*>(h.ram.host(h.its.pend_table(cpu)));
  uint64_t n = 0;
  for (uint32_t i = 8192 / 8; i < (1u << 16) / 8; ++i) n += std::popcount(t[i]);
  return n;
}

uint64_t vmm_creadr(ItsHarness& h) {
  uint64_t v = 0;
  EXPECT_EQ(kvm_attr::its_get(h.g, GITS_CREADR, v), 0) << vgic_last_error();
  return v;
}

}  // namespace

TEST(ItsCommandWorkLimit, MovallsBeyondTheLimitFinishWhileTheDriverPollsCreadr) {
  ItsHarness h(Guest::config(2));
  pend_every_lpi(h, 0);
  const uint64_t start = h.its.cwriter();
  // 41 MOVALLs of every LPI, ending on CPU 1: several accesses' worth of work.
  for (unsigned i = 0; i < 41; ++i)
    h.its.enqueue(MovallCommand{h.its.rdbase(i % 2), h.its.rdbase(1 - i % 2)}.encode());
  h.its.flush();
  const uint64_t after_write = vmm_creadr(h);
  EXPECT_NE(after_write, h.its.cwriter()) << "the write ran only part of the queue";
  EXPECT_GT(after_write, start) << "but it made progress";
  EXPECT_EQ(vmm_creadr(h), after_write) << "the VMM's read runs no command";
  unsigned polls = 0;  // the driver's reads of GITS_CREADR until the queue is done
  for (uint64_t last = after_write; polls < 100;) {
    ++polls;
    const uint64_t now = h.its.creadr();
    if (now == h.its.cwriter()) break;
    EXPECT_NE(now, last) << "every poll makes progress";
    last = now;
  }
  EXPECT_GT(polls, 1u) << "more than one further access was needed";
  EXPECT_LT(polls, 41u) << "each access runs more than one MOVALL of 56 chunks";
  EXPECT_EQ(pending_on(h, 1), kLpis) << "every LPI ended on CPU 1";
  EXPECT_EQ(pending_on(h, 0), 0u);
}

// Ordinary command traffic never meets the limit: a full queue of MAPTI/INV/SYNC completes
// within the GITS_CWRITER write, as drivers that do not poll expect.
TEST(ItsCommandWorkLimit, OrdinaryCommandsCompleteWithinTheWrite) {
  ItsHarness h(Guest::config(2));
  h.its.mapc(0, 0);
  h.its.mapd(1, 10);
  for (uint32_t e = 0; e < 60; ++e) {  // 121 commands: the 4 KiB queue holds 127
    h.its.enqueue(MaptiCommand{its_cmd::MAPTI, DeviceId(1), EventId(e), 8192 + e, CollectionId(0)}.encode());
    h.its.enqueue(EventCommand{its_cmd::INV, DeviceId(1), EventId(e)}.encode());
  }
  h.its.enqueue(InvallCommand{CollectionId(0)}.encode());
  h.its.flush();
  EXPECT_EQ(vmm_creadr(h), h.its.cwriter());
}
