// A misbehaving guest: every offset of every MMIO frame (GICD, GICR RD_base, GICR SGI_base) read and
// written with every size, aligned or not. The expected outcome of each access comes from the
// register maps of IHI0069 (the GICD, GICR RD_base and SGI_base register maps), written out here
// independently of vgic's own tables: reserved offsets read 0, bad widths and misaligned accesses
// are RAZ/WI (the architecture allows RAZ/WI or CONSTRAINED UNPREDICTABLE; vgic always chooses
// RAZ/WI), and each misuse is counted as one guest error. Writes that must be ignored change no
// readable state. Also: the trace sink and its rate limit.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "support/guest.hpp"

using namespace test;

namespace {

// RW: real register; RO: writes are misuse; WO: reads are misuse; RAZWI: RAZ/WI by the architecture
// in this configuration (not misuse); LAX: spec and vgic may reasonably differ on whether misuse is
// counted (only "no crash, no state change" is checked); SKIP: left to the LPI work (not written).
enum Kind { RW, RO, WO, RAZWI, LAX, SKIP };
struct SpecReg {
  uint32_t off, bytes;
  uint8_t widths;  // bit set of allowed sizes: 1, 2, 4, 8
  Kind kind;
};
constexpr uint8_t B = 1, H = 2, W = 4, D = 8;

// GICD (Table 12-25), for a configuration with MBIS = 1 and extended SPIs.
const SpecReg kGicd[] = {
    {0x0000, 4, W, RW},       {0x0004, 4, W, RO},       {0x0008, 4, W, RO},        {0x000C, 4, W, RO},
    {0x0010, 4, W, RAZWI},    {0x0040, 4, H | W, WO},   {0x0048, 4, H | W, WO},    {0x0050, 4, H | W, RAZWI},
    {0x0058, 4, H | W, RAZWI},    {0x0080, 0x80, W, RW},    {0x0100, 0x80, W, RW},     {0x0180, 0x80, W, RW},
    {0x0200, 0x80, W, RW},    {0x0280, 0x80, W, RW},    {0x0300, 0x80, W, RW},     {0x0380, 0x80, W, RW},
    {0x0400, 0x3FC, B | W, RW},
    {0x07FC, 4, B | W, LAX},  // would be IPRIORITYR255 (INTIDs 1020..1023)
    {0x0800, 0x3FC, B | W, RAZWI},  // ITARGETSR: RES0 with affinity routing
    {0x0BFC, 4, B | W, LAX},
    {0x0C00, 0x100, W, RW},   {0x0D00, 0x80, W, RAZWI}, {0x0E00, 0x100, W, RAZWI}, {0x0F00, 4, W, RAZWI},
    {0x0F10, 0x10, B | W, RAZWI}, {0x0F20, 0x10, B | W, RAZWI}, {0x0F80, 0x80, W, RAZWI},
    {0x1000, 0x80, W, RW},    {0x1200, 0x80, W, RW},    {0x1400, 0x80, W, RW},     {0x1600, 0x80, W, RW},
    {0x1800, 0x80, W, RW},    {0x1A00, 0x80, W, RW},    {0x1C00, 0x80, W, RW},     {0x2000, 0x400, B | W, RW},
    {0x3000, 0x100, W, RW},   {0x3400, 0x80, W, RAZWI}, {0x3600, 0x100, W, RAZWI}, {0x3B00, 0x80, W, RAZWI},
    {0x6100, 0x1EE0, W | D, RW},  // IROUTER<n>, n = 32..1019
    {0x8000, 0x2000, W | D, RW},  // IROUTER<n>E
    {0xFFD0, 0x30, W, RO},        // PIDR4..CIDR3
};
// GICR RD_base (Table 12-27). GICR_CTLR and the LPI registers belong to the LPI work.
const SpecReg kGicrRd[] = {
    {0x0000, 4, W, SKIP},  {0x0004, 4, W, RO},     {0x0008, 8, W | D, RO}, {0x0010, 4, W, RAZWI},
    {0x0014, 4, W, RW},    {0x0018, 8, W, LAX},  // MPAMIDR/PARTIDR: only with MPAM
    {0x0040, 0x90, W | D, SKIP},  // SETLPIR .. SYNCR
    {0xFFD0, 0x30, W, RO},
};
// GICR SGI_base (Table 12-29), with 64 extended PPIs.
const SpecReg kGicrSgi[] = {
    {0x0080, 12, W, RW},        {0x0100, 12, W, RW},    {0x0180, 12, W, RW},       {0x0200, 12, W, RW},
    {0x0280, 12, W, RW},        {0x0300, 12, W, RW},    {0x0380, 12, W, RW},       {0x0400, 0x60, B | W, RW},
    {0x0C00, 0x18, W, RW},      {0x0D00, 12, W, RAZWI}, {0x0E00, 4, W, RAZWI},     {0x0F80, 12, W, RAZWI},
    {0xFFD0, 0x30, W, LAX},  // identification registers are only defined for RD_base
};

struct Frame {
  const char* name;
  std::span<const SpecReg> regs;
  uint64_t (*base)(const vgic_config&, unsigned cpu);
};
const Frame kFrames[] = {
    {"gicd", kGicd, [](const vgic_config& c, unsigned) -> uint64_t { return c.gicd_base; }},
    {"gicr", kGicrRd, [](const vgic_config& c, unsigned cpu) -> uint64_t { return c.gicr_base + cpu * 0x20000ull; }},
    {"gicr-sgi", kGicrSgi, [](const vgic_config& c, unsigned cpu) -> uint64_t { return c.gicr_base + cpu * 0x20000ull + 0x10000; }},
};

const SpecReg* find(std::span<const SpecReg> regs, uint32_t off) {
  for (const SpecReg& r : regs)
    if (off >= r.off && off < r.off + r.bytes) return &r;
  return nullptr;
}

struct Outcome {
  bool skip = false, lax = false;
  bool error = false;          // exactly one guest error
  bool raz = false;            // a read returns 0
  bool may_change = false;     // a write that may legitimately change state
};

Outcome classify(std::span<const SpecReg> regs, uint32_t off, unsigned size, bool write) {
  const SpecReg* r = find(regs, off);
  if (!r) return {.error = true, .raz = true};  // reserved
  if (r->kind == SKIP) return {.skip = true};
  if (r->kind == LAX) return {.lax = true, .raz = true};
  if (!(r->widths & size) || off % size) return {.error = true, .raz = true};
  switch (r->kind) {
    case RW: return {.may_change = write};
    case RO: return {.error = write};
    case WO: return {.error = !write, .raz = !write, .may_change = write};
    case RAZWI: return {.raz = true};
    default: return {};
  }
}

vgic_config sweep_config() {
  vgic_config c = Guest::config(2);
  c.nr_spis = 960;
  c.nr_espis = 1024;
  c.nr_eppis = 64;
  c.priority_bits = 8;
  return c;
}

uint64_t errors(vgic* g) {
  vgic_stats s{};
  EXPECT_EQ(vgic_get_stats(g, &s), 0);
  return s.guest_errors;
}

// Every readable RW/RO word of every frame of the GIC (both CPUs).
std::vector<uint64_t> snapshot(Guest& g) {
  std::vector<uint64_t> s;
  for (const Frame& f : kFrames)
    for (unsigned cpu = 0; cpu < (f.regs.data() == kGicd ? 1u : g.cfg().nr_cpus); ++cpu)
      for (const SpecReg& r : f.regs) {
        if (r.kind != RW && r.kind != RO) continue;
        for (uint32_t o = r.off; o < r.off + r.bytes; o += 4) {
          uint64_t v = 0;
          EXPECT_EQ(vgic_mmio_read(g.gic(), f.base(g.cfg(), cpu) + o, 4, &v), 0);
          s.push_back(v);
        }
      }
  return s;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string diff(Guest& g, const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::string out;
  size_t i = 0;
  for (const Frame& f : kFrames)
    for (unsigned cpu = 0; cpu < (f.regs.data() == kGicd ? 1u : g.cfg().nr_cpus); ++cpu)
      for (const SpecReg& r : f.regs) {
        if (r.kind != RW && r.kind != RO) continue;
        for (uint32_t o = r.off; o < r.off + r.bytes; o += 4, ++i)
          if (i < a.size() && i < b.size() && a[i] != b[i] && out.size() < 2000)
            out += std::string(f.name) + " cpu " + std::to_string(cpu) + " +" + hex(o) + ": " + hex(a[i]) + " -> " +
                   hex(b[i]) + "\n";
      }
  return out;
}

// Gives every RW register a random value with valid accesses, so that a stray write that clears or
// sets bits is visible.
void randomize_state(Guest& g, std::mt19937_64& rng) {
  for (const Frame& f : kFrames)
    for (unsigned cpu = 0; cpu < g.cfg().nr_cpus; ++cpu)
      for (const SpecReg& r : f.regs) {
        if (r.kind != RW) continue;
        for (uint32_t o = r.off; o < r.off + r.bytes; o += 4)
          EXPECT_EQ(vgic_mmio_write(g.gic(), f.base(g.cfg(), cpu) + o, 4, rng() & 0xFFFFFFFF), 0);
      }
}

class Sweep : public ::testing::TestWithParam<int> {};

TEST_P(Sweep, EveryOffsetEverySize) {
  const Frame& f = kFrames[GetParam()];
  Guest g(sweep_config());
  const unsigned cpu = 1;  // the last redistributor
  const uint64_t base = f.base(g.cfg(), cpu);
  std::mt19937_64 rng(0x5EED + GetParam());
  randomize_state(g, rng);
  std::vector<std::string> bad;
  auto note = [&](const std::string& s) {
    if (bad.size() < 20) bad.push_back(s);
  };

  // Reads: never host errors; reserved/misused read 0 and count once; valid reads count nothing.
  for (unsigned size : {1u, 2u, 4u, 8u})
    for (uint32_t off = 0; off < 0x10000; ++off) {
      const Outcome o = classify(f.regs, off, size, false);
      const uint64_t before = errors(g.gic());
      uint64_t v = 0xDEAD;
      ASSERT_EQ(vgic_mmio_read(g.gic(), base + off, size, &v), 0);
      if (o.skip || o.lax) continue;
      const uint64_t n = errors(g.gic()) - before;
      if (n != (o.error ? 1u : 0u)) note("read " + std::to_string(size) + " @" + hex(off) + ": errors +" + std::to_string(n));
      if (o.raz && v != 0) note("read " + std::to_string(size) + " @" + hex(off) + " = " + hex(v));
    }

  // Writes that must be ignored: count as specified and change nothing readable anywhere.
  const std::vector<uint64_t> before_state = snapshot(g);
  for (unsigned size : {1u, 2u, 4u, 8u})
    for (uint32_t off = 0; off < 0x10000; ++off) {
      const Outcome o = classify(f.regs, off, size, true);
      if (o.skip || o.may_change) continue;
      const uint64_t before = errors(g.gic());
      ASSERT_EQ(vgic_mmio_write(g.gic(), base + off, size, rng()), 0);
      if (o.lax) continue;
      const uint64_t n = errors(g.gic()) - before;
      if (n != (o.error ? 1u : 0u)) note("write " + std::to_string(size) + " @" + hex(off) + ": errors +" + std::to_string(n));
    }
  const std::vector<uint64_t> after_state = snapshot(g);
  EXPECT_EQ(before_state.size(), after_state.size());
  EXPECT_TRUE(before_state == after_state) << diff(g, before_state, after_state);
  std::string all;
  for (const std::string& s : bad) all += s + "\n";
  EXPECT_TRUE(bad.empty()) << "first mismatches:\n" << all;
}

INSTANTIATE_TEST_SUITE_P(Frames, Sweep, ::testing::Values(0, 1, 2),
                         [](const ::testing::TestParamInfo<int>& i) { return std::string(i.param == 0 ? "Gicd" : i.param == 1 ? "GicrRd" : "GicrSgi"); });

TEST(Misbehaviour, BadWidthsOnRealRegistersAreRazWi) {
  Guest g(sweep_config());
  g.gicd_write(gicd::ISENABLER + 4, 0xFF, 1);        // would enable SPIs 32..39
  g.gicd_write(gicd::ISENABLER + 4, 0xFFFF, 2);
  g.gicd_write(gicd::IPRIORITYR + 32, ~0ull, 8);     // byte/word only
  g.gicd_write(gicd::IROUTER + 8 * 40, 0xFF, 2);     // word/doubleword only
  g.gicd_write(gicd::CTLR, 0x3, 8);
  g.gicr_write(1, gicr::WAKER, 0, 1);                // would wake CPU 1
  g.gicr_write(1, gicr::IGROUPR0, ~0ull, 8);
  EXPECT_EQ(g.guest_errors(), 7u);
  EXPECT_EQ(g.gicd_read(gicd::ISENABLER + 4), 0u);
  EXPECT_EQ(g.gicd_read(gicd::IPRIORITYR + 32), 0u);
  EXPECT_EQ(g.gicd_read(gicd::IROUTER + 8 * 40, 8), 0u);
  EXPECT_EQ(g.gicd_read(gicd::CTLR), 0x50u);
  EXPECT_EQ(g.gicr_read(1, gicr::WAKER), 0x6u);
  EXPECT_EQ(g.gicr_read(1, gicr::IGROUPR0), 0u);
  EXPECT_EQ(g.gicd_read(gicd::TYPER, 8), 0u);  // a word register read as a doubleword
  EXPECT_EQ(g.guest_errors(), 8u);
}

TEST(Misbehaviour, RandomAccessesKeepArchitecturalInvariants) {
  Guest g(sweep_config());
  const uint64_t typer = g.gicd_read(gicd::TYPER), iidr = g.gicd_read(gicd::IIDR);
  const uint64_t rtyper[2] = {g.gicr_read(0, gicr::TYPER, 8), g.gicr_read(1, gicr::TYPER, 8)};
  std::mt19937_64 rng(1234);
  const unsigned sizes[] = {1, 2, 4, 8};
  for (int i = 0; i < 200000; ++i) {
    const Frame& f = kFrames[rng() % 3];
    const unsigned cpu = unsigned(rng() % 2), size = sizes[rng() % 4];
    // Bias towards the populated low part of each frame.
    const uint32_t off = uint32_t(rng() % 4 ? rng() % 0x4000 : rng() % 0x10000);
    const Outcome o = classify(f.regs, off, size, true);
    if (o.skip) continue;
    if (rng() % 2) {
      uint64_t v;
      ASSERT_EQ(vgic_mmio_read(g.gic(), f.base(g.cfg(), cpu) + off, size, &v), 0);
    } else {
      ASSERT_EQ(vgic_mmio_write(g.gic(), f.base(g.cfg(), cpu) + off, size, rng()), 0);
    }
  }
  EXPECT_EQ(g.gicd_read(gicd::CTLR) & ~0x3ull, 0x50u);
  EXPECT_EQ(g.gicd_read(gicd::TYPER), typer);
  EXPECT_EQ(g.gicd_read(gicd::IIDR), iidr);
  EXPECT_EQ(g.gicd_read(gicd::PIDR2), 0x3Bu);
  for (uint32_t o = 0; o < 0x100; o += 4) {
    EXPECT_EQ(g.gicd_read(gicd::ICFGR + o) & 0x55555555, 0u);   // Int_config[0] is RES0
    EXPECT_EQ(g.gicd_read(gicd::ICFGRE + o) & 0x55555555, 0u);
  }
  for (uint32_t n = 32; n < 992; ++n)  // IROUTER: RES0 bits [63:40] and [30:24]
    ASSERT_EQ(g.gicd_read(gicd::IROUTER + 8 * n, 8) & ~0x000000FF80FFFFFFull, 0u) << n;
  for (unsigned cpu = 0; cpu < 2; ++cpu) {
    EXPECT_EQ(g.gicr_read(cpu, gicr::TYPER, 8), rtyper[cpu]);
    const uint64_t waker = g.gicr_read(cpu, gicr::WAKER);
    EXPECT_EQ(waker & ~0x6ull, 0u);
    EXPECT_EQ((waker >> 1) & 1, (waker >> 2) & 1);  // ChildrenAsleep follows ProcessorSleep
    EXPECT_EQ(g.gicr_read(cpu, gicr::ICFGR0), 0xAAAAAAAAu);
    EXPECT_EQ(g.gicr_read(cpu, gicr::PIDR2), 0x3Bu);
  }
}

// --- The trace sink -----------------------------------------------------------------------------

struct Seen {
  std::string kind, frame, detail;
  unsigned cpu;
  uint64_t offset, value;
};
void record(void* opaque, const vgic_trace_event* ev) {
  static_cast<std::vector<Seen>*>(opaque)->push_back({ev->kind, ev->frame, ev->detail, ev->cpu, ev->offset, ev->value});
}

vgic_stats stats(vgic* g) {
  vgic_stats s{};
  EXPECT_EQ(vgic_get_stats(g, &s), 0);
  return s;
}

TEST(TraceSink, EventsDescribeTheMisuse) {
  Guest g(Guest::config(2));
  std::vector<Seen> seen;
  vgic_set_trace_sink(g.gic(), record, &seen, 1000);
  g.gicd_read(0x14);
  g.gicd_write(0x14, 0x1234);
  g.gicd_write(gicd::CTLR, 0x3, 1);
  g.gicd_write(gicd::TYPER, 0x77);
  g.gicd_read(gicd::SETSPI_NSR);
  g.gicr_write(1, 0x100, 7);
  g.gicr_read(1, gicr::SGI + 0x1000);
  const Seen expect[] = {
      {"mmio-reserved", "gicd", "read of a reserved offset", ~0u, 0x14, 0},
      {"mmio-reserved", "gicd", "write to a reserved offset", ~0u, 0x14, 0x1234},
      {"mmio-width", "gicd", "GICD_CTLR: access of 1 bytes", ~0u, gicd::CTLR, 0x3},
      {"mmio-read-only", "gicd", "GICD_TYPER is read-only", ~0u, gicd::TYPER, 0x77},
      {"mmio-write-only", "gicd", "GICD_SETSPI_NSR is write-only", ~0u, gicd::SETSPI_NSR, 0},
      {"mmio-reserved", "gicr", "write to a reserved offset", 1, 0x100, 7},
      {"mmio-reserved", "gicr-sgi", "read of a reserved offset", 1, 0x1000, 0},
  };
  ASSERT_EQ(seen.size(), std::size(expect));
  for (size_t i = 0; i < seen.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(seen[i].kind, expect[i].kind);
    EXPECT_EQ(seen[i].frame, expect[i].frame);
    EXPECT_EQ(seen[i].cpu, expect[i].cpu);
    EXPECT_EQ(seen[i].offset, expect[i].offset);
    EXPECT_EQ(seen[i].value, expect[i].value);
    EXPECT_NE(seen[i].detail.find(expect[i].detail), std::string::npos) << seen[i].detail;
  }
  EXPECT_EQ(stats(g.gic()).guest_errors, 7u);
  EXPECT_EQ(stats(g.gic()).trace_dropped, 0u);
}

// Generates n guest errors (reserved reads) and returns how long it took.
double misuse(Guest& g, unsigned n) {
  const auto t0 = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < n; ++i) g.gicd_read(0x14);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(TraceSink, RateLimitedWithDropsCounted) {
  Guest g(Guest::config(1));
  std::vector<Seen> seen;
  vgic_set_trace_sink(g.gic(), record, &seen, 5);
  const double took = misuse(g, 40);
  const vgic_stats s = stats(g.gic());
  EXPECT_EQ(s.guest_errors, 40u);  // every misuse is counted, delivered or not
  EXPECT_EQ(seen.size() + s.trace_dropped, 40u);
  if (took < 0.9) {
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_EQ(s.trace_dropped, 35u);
  }
}

TEST(TraceSink, DefaultRateIsAHundredPerSecond) {
  Guest g(Guest::config(1));
  std::vector<Seen> seen;
  vgic_set_trace_sink(g.gic(), record, &seen, 0);
  const double took = misuse(g, 250);
  const vgic_stats s = stats(g.gic());
  EXPECT_EQ(seen.size() + s.trace_dropped, 250u);
  if (took < 0.9) {
    EXPECT_EQ(seen.size(), 100u);
  }
}

TEST(TraceSink, TheBudgetRefillsAfterASecond) {
  Guest g(Guest::config(1));
  std::vector<Seen> seen;
  vgic_set_trace_sink(g.gic(), record, &seen, 2);
  misuse(g, 5);
  const size_t first = seen.size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  misuse(g, 5);
  EXPECT_EQ(first, 2u);
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(stats(g.gic()).trace_dropped, 6u);
}

TEST(TraceSink, RemovingTheSinkStopsEventsButNotCounting) {
  Guest g(Guest::config(1));
  std::vector<Seen> seen;
  vgic_set_trace_sink(g.gic(), record, &seen, 1000);
  misuse(g, 3);
  vgic_set_trace_sink(g.gic(), nullptr, nullptr, 0);
  misuse(g, 3);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(stats(g.gic()).guest_errors, 6u);
  EXPECT_EQ(stats(g.gic()).trace_dropped, 0u);
}

}  // namespace
