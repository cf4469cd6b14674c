// The LPI state of one Redistributor (IHI0069 5.1: LPIs): which LPIs are pending, their cached
// configuration (priority, enable) and the derived priority order used to pick the next one.
//
// Storage is sparse: chunks of 1024 LPIs are allocated on first use (mapping, SETLPIR, pending
// table), so host memory follows the LPIs in use, never the size of the INTID space.
//
// Concurrency (see docs/architecture.md):
//  - pending bits and configuration bytes are atomics. Any thread may set or clear a pending bit
//    (MSI injection, DirectLPI, ITS commands) or store a configuration byte (INV/INVALL) without a
//    lock; it then marks the chunk dirty (a lock-free push onto this table's dirty stack) and asks
//    the owning CPU to update (for a newly pending LPI: GicCore::post_lpi, which leaves it on the
//    stack when the CPU's IRQ line is already up; the owner's next selection takes it in).
//  - everything else (queued bits, priority buckets) belongs to the owning CPU and is touched only
//    under its CpuLock, by process(), best(), acknowledge() and the enable/disable operations.
//  - chunks are never freed while the GIC lives, so a pointer obtained from find() stays valid.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/host_budget.hpp"
#include "core/types.hpp"

namespace gicv3 {

class GuestMemory;

// LPI configuration table entry (IHI0069, "LPI Configuration tables"): bit 0 Enable, bits [7:2] Priority.
namespace LPI_CONFIG {
constexpr uint8_t kEnable = 0x01;
constexpr uint8_t kPriorityMask = 0xfc;
}  // namespace LPI_CONFIG

class LpiTable {
 public:
  static constexpr unsigned kChunkShift = 10;
  static constexpr unsigned kChunkSize = 1u << kChunkShift;
  static constexpr unsigned kWords = kChunkSize / 64;
  static constexpr unsigned kDirShift = 7;  // chunks per directory block: 128
  static constexpr unsigned kMaxIdBits = 24;

  struct Chunk;

  LpiTable(unsigned id_bits, uint8_t priority_mask, HostBudget& budget);
  ~LpiTable();

  // Lock-free. nullptr if no chunk holds intid yet.
  Chunk* find(uint32_t intid) const;
  // Creates the chunk of intid if needed, loading its configuration bytes from the configuration
  // table at prop_pa (configuration memory that is not RAM reads as "disabled"). nullptr if intid is out of range or the host
  // budget is exhausted. Thread-safe (internal allocation lock).
  Chunk* get_or_create(uint32_t intid, const GuestMemory& mem, uint64_t prop_pa);

  // --- Any thread, lock-free. Return false if the LPI has no chunk (caller creates it first).
  // set_pending: *newly set receives whether the bit was clear before.
  bool set_pending(uint32_t intid, bool* newly_set = nullptr);
  // The same on a chunk already in hand (the MSI hit path caches it with the translation).
  void set_pending_in(Chunk& chunk, uint32_t intid, bool* newly_set);
  bool clear_pending(uint32_t intid);
  // Clears and returns the previous pending state (MOVI/MOVALL move it elsewhere).
  bool take_pending(uint32_t intid);
  bool is_pending(uint32_t intid) const;
  // Stores a configuration byte read from guest RAM (INV, GICR_INVLPIR).
  void set_config(uint32_t intid, uint8_t config);
  uint8_t config(uint32_t intid) const;
  // Re-reads intid's configuration byte from the table at prop_pa if its chunk exists (INV,
  // MAPTI, MOVI, GICR_INVLPIR). True if the cached byte changed.
  bool reload_config(uint32_t intid, const GuestMemory& mem, uint64_t prop_pa);
  // Re-reads the configuration of every existing chunk (INVALL, GICR_INVALLR).
  void reload_all_config(const GuestMemory& mem, uint64_t prop_pa);

  // Whether changes are waiting on the dirty stack (owner: its buckets may be behind). seq_cst:
  // pairs with the injector's lock-word check in GicCore::post_lpi.
  bool has_dirty() const { return dirty_head_.load(std::memory_order_seq_cst) != nullptr; }

  // --- Owner (CPU lock held).
  // Takes every change signalled since the last call into the priority buckets.
  void process();
  // Highest-priority pending enabled LPI (0 if none) and its priority. O(1).
  uint32_t best(uint8_t& priority) const;
  // Acknowledge: the LPI stops being pending (LPIs have no active state). False if its pending bit
  // was already clear: another thread took it (MOVI/MOVALL to another CPU, CLEAR, DISCARD) after
  // the owner's last process(); the caller selects again instead of delivering it.
  bool acknowledge(uint32_t intid);
  // EnableLPIs 1 -> 0: writes every pending bit to the pending table at pend_pa (IHI0069 5.1.2),
  // then forgets all pending state. Returns false if some of the table was not in guest RAM.
  bool write_back_and_clear(GuestMemory& mem, uint64_t pend_pa, uint32_t limit) {
    return write_pending(mem, pend_pa, limit, true);
  }
  // Writes the pending bits of INTIDs below limit (the range GICR_PROPBASER.IDbits gave at enable:
  // the table is that long) to the pending table; with clear, also forgets the pending state.
  // Chunks at or beyond limit (made under an earlier, larger IDbits) hold nothing pending and are
  // not written: that memory is not the table's.
  bool write_pending(GuestMemory& mem, uint64_t pend_pa, uint32_t limit, bool clear);
  // EnableLPIs 0 -> 1: forget any pending state, reload configuration, then read the pending table
  // (bits of INTIDs 8192..limit-1; the first 1 KiB is reserved) unless ptz. Returns false if the
  // pending table was not (entirely) in guest RAM.
  bool enable(const GuestMemory& mem, uint64_t prop_pa, uint64_t pend_pa, bool ptz, uint32_t limit);
  // Calls f(intid) for every pending LPI (owner's view after process()).
  template <class F>
  void for_each_pending(F&& f) const;

  // MOVALL, a chunk at a time (any thread, lock-free like the single-LPI operations). A chunk's
  // pending bits: kWords words, bit b of word w is LPI base + 64w + b.
  using PendingWords = std::array<uint64_t, kWords>;
  // Takes every chunk's pending bits (clearing them) and calls f(base, bits); the bits f leaves
  // set in `bits` are made pending here again (a move the target refused). Returns the chunks seen.
  template <class F>
  size_t take_all_pending(F&& f);
  // Makes `bits` of the chunk at base pending (it must exist: get_or_create), storing first the
  // configuration bytes of those LPIs from the table at prop_pa (the cache filled as a move brings
  // them, as MOVI does).
  void add_pending(uint32_t base, const PendingWords& bits, const GuestMemory& mem, uint64_t prop_pa);

  unsigned id_bits() const { return id_bits_; }
  bool in_range(uint32_t intid) const { return intid >= Intid::kLpiBase && (intid >> id_bits_) == 0; }
  size_t nr_chunks() const { return nr_chunks_.load(std::memory_order_relaxed); }

 private:
  friend struct SnapshotAccess;  // snapshot/: captures and restores the cached state
  using Dir = std::array<std::atomic<Chunk*>, 1u << kDirShift>;
  // The configuration bytes of the chunk at base, indexed like Chunk::config, from the table at
  // prop_pa (IHI0069 5.1.1: it begins at INTID 8192). Memory that is not RAM reads as 0: disabled.
  static void read_config_block(const GuestMemory& mem, uint64_t prop_pa, uint32_t base, uint8_t (&cfg)[kChunkSize]);
  // words: the 64-LPI words of c that changed (bit w: LPIs base + 64w ..).
  void mark_dirty(Chunk* c, uint32_t words);
  void bucket_insert(uint32_t intid, uint8_t bucket) { bucket_insert(*find(intid), intid, bucket); }
  void bucket_remove(uint32_t intid) { bucket_remove(*find(intid), intid); }
  // The same with the LPI's chunk already in hand (process, acknowledge: one directory walk less).
  void bucket_insert(Chunk& c, uint32_t intid, uint8_t bucket);
  void bucket_remove(Chunk& c, uint32_t intid);
  void reevaluate(Chunk& c, uint32_t words);
  template <class F>
  void for_each_chunk(F&& f) const;

  const unsigned id_bits_;
  const uint8_t pri_mask_;
  HostBudget& budget_;
  std::unique_ptr<std::atomic<Dir*>[]> dir_;
  const size_t dir_size_;
  // Serializes chunk creation (which reads the chunk's configuration from RAM before publishing
  // it) with the reloads: a reload either finds the chunk published or runs before the creation
  // reads RAM, so an INV is never lost to a chunk being created; it also orders two reloads.
  std::mutex alloc_lock_;
  std::atomic<size_t> nr_chunks_{0};
  std::atomic<Chunk*> dirty_head_{nullptr};

  // Priority buckets (owner only): bucket b holds LPIs of priority b << 2, FIFO.
  static constexpr uint32_t kNone = 0;
  std::array<uint32_t, 64> head_{}, tail_{};
  uint64_t nonempty_ = 0;
};

struct LpiTable::Chunk {
  explicit Chunk(uint32_t base_intid) : base(base_intid) {}
  const uint32_t base;
  std::atomic<uint64_t> pending[kWords] = {};
  std::atomic<uint8_t> config[kChunkSize] = {};
  // Words (64 LPIs each) changed since the owner last processed this chunk; nonzero while the
  // chunk is on the dirty stack, so the owner looks only at what changed (issue 7).
  std::atomic<uint32_t> dirty{0};
  static constexpr uint32_t kAllWords = (1u << kWords) - 1;
  Chunk* next_dirty = nullptr;
  // Owner only.
  uint64_t queued[kWords] = {};           // pending bits already taken into the buckets
  uint32_t next[kChunkSize] = {};         // bucket links (INTIDs, 0 = none)
  uint32_t prev[kChunkSize] = {};
  uint8_t bucket[kChunkSize];             // bucket of each LPI, kNoBucket if none
  static constexpr uint8_t kNoBucket = 0xff;
};

template <class F>
void LpiTable::for_each_chunk(F&& f) const {
  for (size_t d = 0; d < dir_size_; ++d) {
    Dir* dir = dir_[d].load(std::memory_order_acquire);
    if (!dir) continue;
    for (auto& slot : *dir)
      if (Chunk* c = slot.load(std::memory_order_acquire)) f(*c);
  }
}

template <class F>
size_t LpiTable::take_all_pending(F&& f) {
  size_t chunks = 0;
  for_each_chunk([&](const Chunk& cc) {
    Chunk& c = const_cast<Chunk&>(cc);  // chunks are owned by this table; the walk only reads the directory
    ++chunks;
    PendingWords bits{};
    uint32_t words = 0;
    for (unsigned w = 0; w < kWords; ++w)
      if ((bits[w] = c.pending[w].exchange(0, std::memory_order_acq_rel))) words |= 1u << w;
    if (!words) return;
    mark_dirty(&c, words);
    f(c.base, bits);
    uint32_t back = 0;
    for (unsigned w = 0; w < kWords; ++w)
      if (bits[w]) {
        c.pending[w].fetch_or(bits[w], std::memory_order_acq_rel);
        back |= 1u << w;
      }
    if (back) mark_dirty(&c, back);
  });
  return chunks;
}

template <class F>
void LpiTable::for_each_pending(F&& f) const {
  for_each_chunk([&](const Chunk& c) {
    for (unsigned w = 0; w < kWords; ++w)
      for (uint64_t bits = c.pending[w].load(std::memory_order_acquire); bits; bits &= bits - 1)
        f(c.base + w * 64 + unsigned(__builtin_ctzll(bits)));
  });
}

}  // namespace gicv3
