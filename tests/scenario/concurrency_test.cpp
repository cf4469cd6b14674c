// Concurrency (vgic.h threading contract): device threads pulse edge-triggered SPIs (targeted and
// 1-of-N) and PPIs while vCPU threads send each other SGIs and run the acknowledge/EOI loop of an
// interrupt handler. Bounded by iteration counts, not by time; checks that every acknowledged
// INTID had been raised for that CPU, that a 1-of-N SPI is never taken by two CPUs at once, that
// nothing is lost, and that the GIC ends quiescent and consistent.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

constexpr unsigned kCpus = 4;
constexpr unsigned kDevices = 2;
constexpr uint32_t kSpiBase = 64, kNrSpis = 32;  // SPI 64 + i is routed to CPU i % kCpus
constexpr uint32_t k1ofNBase = 96, kNr1ofN = 4;  // SPIs 96..99: IRM = 1
constexpr uint32_t kPpi = 27;                    // one edge PPI per CPU (a timer, say)
constexpr uint32_t kSgiBase = 1, kNrSgis = 4;    // SGIs 1..4
constexpr unsigned kPulsesPerDevice = 10000;
constexpr unsigned kSgisPerCpu = 3000;
constexpr uint32_t kIds = 128;  // accounting covers INTIDs 0..127

constexpr unsigned kAnyCpu = kCpus;  // accounting row of the 1-of-N SPIs
bool is_1ofn(uint32_t id) { return id >= k1ofNBase && id < k1ofNBase + kNr1ofN; }

struct Shared {
  std::array<std::array<std::atomic<uint64_t>, kIds>, kCpus + 1> raised{};
  std::array<std::atomic<bool>, kNr1ofN> in_handler{};  // a 1-of-N SPI being handled by some CPU
  std::atomic<uint64_t> double_takes{0};
  std::atomic<unsigned> devices_done{0};
  std::atomic<unsigned> senders_done{0};
  std::atomic<uint64_t> api_failures{0};
  std::array<std::atomic<int>, kCpus> last_notified{};
  std::atomic<uint64_t> notifications{0};
};

void notify(void* opaque, unsigned cpu, int lines) {
  auto* s = static_cast<Shared*>(opaque);
  // Notifications of one CPU are serialized (called under its lock), so the last store wins.
  s->last_notified[cpu].store(lines);
  s->notifications.fetch_add(1);
}

void pulse(vgic* gic, Shared& s, unsigned cpu, uint32_t intid) {
  if (vgic_set_irq_level(gic, cpu, intid, 1) != 0) s.api_failures++;
  if (vgic_set_irq_level(gic, cpu, intid, 0) != 0) s.api_failures++;
}

// Device thread d owns the lines of the SPIs with i % kDevices == d, of the 1-of-N SPIs with
// k % kDevices == d and of the PPIs of CPUs with cpu % kDevices == d, so each line has a single
// writer and every pulse is one rising edge.
void device(vgic* gic, Shared& s, unsigned d) {
  for (unsigned n = 0; n < kPulsesPerDevice; ++n) {
    const uint32_t i = (n * kDevices + d) % kNrSpis;
    s.raised[i % kCpus][kSpiBase + i]++;
    pulse(gic, s, 0, kSpiBase + i);
    if (n % 4 == 0) {
      const uint32_t k = (n / 4 * kDevices + d) % kNr1ofN;
      s.raised[kAnyCpu][k1ofNBase + k]++;
      pulse(gic, s, 0, k1ofNBase + k);
    }
    if (n % 8 == 0) {
      const unsigned cpu = (n / 8 * kDevices + d) % kCpus;
      s.raised[cpu][kPpi]++;
      pulse(gic, s, cpu, kPpi);
    }
  }
  s.devices_done++;
}

// A vCPU: sends kSgisPerCpu SGIs to the others while handling interrupts, then drains.
void vcpu(vgic* gic, Shared& s, unsigned cpu, std::array<uint64_t, kIds>& acked, uint64_t& unexpected) {
  unsigned sent = 0;
  for (uint64_t n = 0;; ++n) {
    if (sent < kSgisPerCpu) {
      const unsigned to = (cpu + 1 + n % (kCpus - 1)) % kCpus;
      const uint32_t sgi = kSgiBase + uint32_t(n % kNrSgis);
      s.raised[to][sgi]++;
      // Default affinities: Aff0 = cpu (fewer than 16 CPUs).
      if (vgic_sysreg_write(gic, cpu, icc::SGI1R, uint64_t(sgi) << 24 | 1u << to) != 0) s.api_failures++;
      if (++sent == kSgisPerCpu) s.senders_done++;
    }
    // Read the flags before the acknowledge: a 1023 after everyone finished raising means this
    // CPU has nothing left (it never keeps an interrupt active across iterations).
    const bool all_raised = s.devices_done.load() == kDevices && s.senders_done.load() == kCpus;
    uint64_t v = 0;
    if (vgic_sysreg_read(gic, cpu, icc::IAR1, &v) != 0) s.api_failures++;
    const uint32_t id = uint32_t(v);
    if (id == kSpurious) {
      if (all_raised) return;
      std::this_thread::yield();
      continue;
    }
    const unsigned row = is_1ofn(id) ? kAnyCpu : cpu;
    if (id < kIds && s.raised[row][id].load() > 0)
      ++acked[id];
    else
      ++unexpected;
    // Until its EOI deactivates it, no other CPU may acknowledge a 1-of-N SPI this one took.
    if (is_1ofn(id)) {
      if (s.in_handler[id - k1ofNBase].exchange(true)) s.double_takes++;
      std::this_thread::yield();  // the handler's work: let the other CPUs try to take it too
      s.in_handler[id - k1ofNBase].store(false);
    }
    if (vgic_sysreg_write(gic, cpu, icc::EOIR1, id) != 0) s.api_failures++;
  }
}

}  // namespace

TEST(Concurrency, DevicesAndVcpusRaceWithoutLosingOrInventingInterrupts) {
  Guest g(Guest::config(kCpus));
  Shared s;
  vgic_set_line_notifier(g.gic(), notify, &s);
  g.bring_up_all();
  for (uint32_t i = 0; i < kNrSpis; ++i) g.setup(kSpiBase + i, true, uint8_t(0x80 + (i % 4) * 8), true, i % kCpus);
  for (uint32_t k = 0; k < kNr1ofN; ++k) {
    g.setup(k1ofNBase + k, true, 0x88, true);
    g.route(k1ofNBase + k, 1ull << 31);
  }
  for (unsigned c = 0; c < kCpus; ++c) {
    g.setup(kPpi, true, 0x90, true, c);
    for (uint32_t k = 0; k < kNrSgis; ++k) g.setup(kSgiBase + k, true, uint8_t(0x70 + k * 8), true, c);
  }

  std::array<std::array<uint64_t, kIds>, kCpus> acked{};
  std::array<uint64_t, kCpus> unexpected{};
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < kCpus; ++c)
    threads.emplace_back(vcpu, g.gic(), std::ref(s), c, std::ref(acked[c]), std::ref(unexpected[c]));
  for (unsigned d = 0; d < kDevices; ++d) threads.emplace_back(device, g.gic(), std::ref(s), d);
  for (auto& t : threads) t.join();

  EXPECT_EQ(s.api_failures.load(), 0u);
  EXPECT_EQ(s.double_takes.load(), 0u);
  uint64_t total = 0;
  for (unsigned c = 0; c < kCpus; ++c) {
    EXPECT_EQ(unexpected[c], 0u) << "cpu " << c << " acknowledged an INTID never raised for it";
    for (uint32_t id = 0; id < kIds; ++id) {
      if (is_1ofn(id)) continue;  // below
      const uint64_t raised = s.raised[c][id].load();
      // Edges and SGIs coalesce while pending, so there may be fewer acknowledges than raises,
      // never more, and at least one for anything raised (the last raise is never lost).
      EXPECT_LE(acked[c][id], raised) << "cpu " << c << " INTID " << id;
      if (raised > 0) {
        EXPECT_GE(acked[c][id], 1u) << "cpu " << c << " INTID " << id;
      }
      total += acked[c][id];
    }
  }
  EXPECT_GT(total, 0u);
  // A 1-of-N SPI is acknowledged by whichever CPU gets there first: count over all CPUs.
  for (uint32_t id = k1ofNBase; id < k1ofNBase + kNr1ofN; ++id) {
    uint64_t taken = 0;
    for (unsigned c = 0; c < kCpus; ++c) taken += acked[c][id];
    EXPECT_LE(taken, s.raised[kAnyCpu][id].load()) << "INTID " << id;
    EXPECT_GE(taken, 1u) << "INTID " << id;
  }

  // Quiescent and consistent: nothing pending or active, outputs low, no active priority, and the
  // notifier's last word for each CPU agrees with the published lines.
  for (uint32_t id = kSpiBase; id < k1ofNBase + kNr1ofN; ++id) {
    EXPECT_FALSE(g.is_pending(id)) << id;
    EXPECT_FALSE(g.is_active(id)) << id;
  }
  for (unsigned c = 0; c < kCpus; ++c) {
    EXPECT_EQ(g.gicr_read(c, gicr::ISPENDR0), 0u) << "cpu " << c;
    EXPECT_EQ(g.gicr_read(c, gicr::ISACTIVER0), 0u) << "cpu " << c;
    EXPECT_EQ(g.lines(c), 0) << "cpu " << c;
    EXPECT_EQ(s.last_notified[c].load(), 0) << "cpu " << c;
    EXPECT_EQ(g.rpr(c), 0xff) << "cpu " << c;
    EXPECT_EQ(g.icc_read(c, icc::AP1R0), 0u) << "cpu " << c;
  }
  EXPECT_GT(s.notifications.load(), 0u);
  EXPECT_EQ(g.guest_errors(), 0u);
}
