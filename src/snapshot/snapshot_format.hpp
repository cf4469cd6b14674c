// The vgic full-snapshot format, version 1 (docs/snapshot-format.md): its framing constants, the
// intermediate model a blob decodes into, and the entry points. The section bodies' fields are
// declared once, in snapshot_fields.hpp, for both directions.
//
// A blob is
//   header   magic "VGICSNAP" (8 bytes), u32 version (1), u32 flags (0), u64 payload length
//   payload  sections, each u32 tag, u32 reserved (0), u64 body length, body
//   trailer  u32 CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of header and payload
// Every integer is little-endian and of fixed width, independent of vgic's in-memory layout.
// Section order is fixed: CONF, GICD, CPU x nr_cpus, ITS x nr_its, GSIR, UIRQ.
//
// Only guest-visible state and host-set inputs are stored. Derived state (translation caches,
// the HPPI, published per-CPU best SPIs, LPI priority buckets' links, SPI targets) is rebuilt on
// restore. Host resources (guest RAM mappings, irqfds, ack notifiers, callbacks) are the
// embedder's and are not stored.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "vgic/vgic.hpp"

namespace gicv3::snapshot {

inline constexpr char kMagic[8] = {'V', 'G', 'I', 'C', 'S', 'N', 'A', 'P'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 8 + 4 + 4 + 8;
inline constexpr size_t kTrailerSize = 4;
inline constexpr size_t kSectionHeaderSize = 4 + 4 + 8;

// Section tags: four ASCII characters read as a little-endian u32.
constexpr uint32_t tag(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
inline constexpr uint32_t kTagConfig = tag("CONF");
inline constexpr uint32_t kTagDist = tag("GICD");
inline constexpr uint32_t kTagCpu = tag("CPU ");
inline constexpr uint32_t kTagIts = tag("ITS ");
inline constexpr uint32_t kTagGsi = tag("GSIR");
inline constexpr uint32_t kTagUserIrq = tag("UIRQ");
std::string tag_name(uint32_t t);

uint32_t crc32(std::span<const uint8_t> data, uint32_t crc = 0);
// The same without the x86-64 carry-less-multiply path (tests compare the two).
uint32_t crc32_portable(std::span<const uint8_t> data, uint32_t crc = 0);

// --- The model ---------------------------------------------------------------------------------

// One SGI/PPI/SPI (irq/irq.hpp). Encoded as u8 priority, u8 flags (the bits below) and, for
// SPIs, u64 GICD_IROUTER. Host bookkeeping (ack_notify, resample) is not stored: it belongs to the
// target's own ack notifiers and irqfds.
struct IrqState {
  uint8_t priority = 0;
  bool enabled = false, group1 = false, edge = false;
  bool latch = false;      // pending latch
  bool line = false;       // host-set input level
  bool msg_level = false;  // asserted by GICD_SETSPI_NSR (level SPI)
  bool active = false;
  uint64_t route = 0;      // SPIs only
  enum : uint8_t { kEnabled = 1, kGroup1 = 2, kEdge = 4, kLatch = 8, kLine = 16, kMsgLevel = 32, kActive = 64 };
  static constexpr uint8_t kKnownFlags = 0x7f;
  uint8_t flags() const;
  void set_flags(uint8_t f);
  bool pending() const { return latch || (!edge && (line || msg_level)); }
};

// 1024 LPIs' cached configuration bytes and pending bits (lpi/lpi_table.hpp chunks).
struct LpiChunk {
  static constexpr unsigned kSize = 1024;
  uint32_t base = 0;  // first INTID, a multiple of 1024, >= 8192
  std::array<uint8_t, kSize> config{};
  std::array<uint64_t, kSize / 64> pending{};
  bool is_pending(uint32_t intid) const {
    const uint32_t i = intid - base;
    return (pending[i / 64] >> (i % 64)) & 1;
  }
};

struct CpuState {
  // Redistributor.
  bool processor_sleep = true;  // GICR_WAKER
  uint64_t propbaser = 0, pendbaser = 0;
  bool ptz = false;
  bool enable_lpis = false;     // GICR_CTLR.EnableLPIs
  bool lpis_on = false;         // LPIs accepted now (follows EnableLPIs)
  uint32_t lpi_limit = 0;       // effective INTID limit taken from PROPBASER.IDbits at enable
  uint64_t prop_pa = 0;         // effective configuration table address taken at enable
  // CPU interface.
  uint8_t pmr = 0;
  std::array<uint8_t, 2> bpr{};
  std::array<std::array<uint32_t, 4>, 2> apr{};  // ICC_AP0R<n>, ICC_AP1R<n>
  bool eoimode = false, cbpr = false;
  std::array<bool, 2> igrpen{};
  // SGIs, PPIs, then extended PPIs (32 + nr_eppis entries).
  std::vector<IrqState> private_irqs;
  // LPIs: cached configuration and pending state, chunks in ascending base order; then the
  // pending, enabled LPIs in the order this redistributor would take equal-priority ones (FIFO per
  // priority), so that acknowledge order survives a restore.
  std::vector<LpiChunk> lpi_chunks;
  std::vector<uint32_t> lpi_order;
};

struct ItsIte {
  uint32_t eventid = 0, intid = 0;
  uint16_t icid = 0;
};
struct ItsDevice {
  uint32_t devid = 0;
  uint8_t event_bits = 0;  // MAPD Size + 1
  uint64_t itt_addr = 0;
  std::vector<ItsIte> ites;  // ascending eventid
};
struct ItsState {
  bool enabled = false;  // GITS_CTLR.Enabled
  uint64_t cbaser = 0, cwriter = 0, creadr = 0;
  bool stalled = false;  // GITS_CREADR.Stalled
  std::array<uint64_t, 8> baser{};
  std::vector<std::pair<uint32_t, uint32_t>> collections;  // ICID -> CPU index, ascending ICID
  std::vector<ItsDevice> devices;                          // ascending DeviceID
};

struct UserIrqState {
  struct Map {
    uint32_t ppi = 0;
    bool edge = false;
  };
  std::array<Map, 64> map{};
  std::vector<uint64_t> last;  // per CPU: the device bits of the last sync
};

struct Model {
  Config config;  // mpidr always filled (the effective affinities)
  uint32_t gicd_ctlr = 0;          // group enables (ARE/DS are fixed)
  std::vector<IrqState> spis;      // nr_spis SPIs then nr_espis extended SPIs
  std::vector<CpuState> cpus;
  std::vector<ItsState> its;
  std::vector<GsiRoute> gsi_routes;  // ascending GSI (stable)
  UserIrqState user_irq;
};

// --- Encoding ----------------------------------------------------------------------------------

std::vector<uint8_t> encode(const Model& m);
// The same written straight into `out` when the blob's upper bound fits there: returns the bytes
// written; otherwise 0, with the blob in `overflow`.
size_t encode_into(const Model& m, std::span<uint8_t> out, std::vector<uint8_t>& overflow);
// Decodes and checks a whole blob (structure, checksum, version, every field's range and the
// consistency between sections). No GIC is needed. On failure returns a Status naming the
// section, field and byte offset.
Status decode(std::span<const uint8_t> blob, Model& out);
// The configuration check of restore: field by field, host-only tuning excepted.
Status compare_config(const Config& snapshot, const Config& target);

// The effective configuration of a Gic (default affinities made explicit).
Config effective_config(const Config& c, const std::vector<uint64_t>& mpidrs);

}  // namespace gicv3::snapshot
