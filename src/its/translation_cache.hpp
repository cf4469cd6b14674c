// The MSI translation cache of one ITS: (DeviceID, EventID) -> (LPI, target CPU, LPI state chunk).
// Derived state: filled by the slow path, invalidated at the named points in its/its.cpp (every
// command that changes a translation, ITS disable, EnableLPIs cleared), never saved.
//
// Two-way set-associative (the two 32-byte entries of a set share a cache line), each entry a
// seqlock: lookups take no lock and never write shared memory; a writer (holding the ITS lock)
// bumps the entry's sequence around its update. Eviction is a plain overwrite, so more live
// translations than entries costs only slow-path walks, never a collapse. Two ways instead of one
// (issue 7): with as many translations as entries, a direct-mapped table lost about a third of
// them to collisions.
// invalidate_all() is O(1): entries carry the epoch they were filled in.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "lpi/lpi_table.hpp"

namespace gicv3 {

class TranslationCache {
 public:
  struct Hit {
    uint32_t intid;
    uint16_t cpu;
    LpiTable::Chunk* chunk;
  };

  explicit TranslationCache(unsigned entries)
      : ways_(entries >= 2 ? 2 : 1), mask_(entries ? (entries - 1) & ~(ways_ - 1) : 0), entries_(entries) {
    if (entries) table_.reset(new Entry[entries]);
  }
  bool enabled() const { return entries_ != 0; }

  bool lookup(uint32_t devid, uint32_t eventid, Hit& hit) const {
    if (!entries_) return false;
    const uint64_t key = make_key(devid, eventid);
    const unsigned set = index(key);
    for (unsigned w = 0; w < ways_; ++w)
      if (lookup_in(table_[set + w], key, hit)) return true;
    return false;
  }

  // Whether insert() would have to overwrite another live translation (any thread; a hint only).
  bool set_full(uint32_t devid, uint32_t eventid) const {
    if (!entries_) return true;
    const uint64_t key = make_key(devid, eventid);
    const unsigned set = index(key);
    const uint32_t epoch = epoch_.load(std::memory_order_relaxed);
    for (unsigned w = 0; w < ways_; ++w) {
      const Entry& e = table_[set + w];
      const uint64_t k = e.key.load(std::memory_order_relaxed);
      if (k == key || k == kNoKey || e.epoch.load(std::memory_order_relaxed) != epoch) return false;
    }
    return true;
  }

  // Writers: ITS lock held.
  void insert(uint32_t devid, uint32_t eventid, const Hit& hit) {
    if (!entries_) return;
    const uint64_t key = make_key(devid, eventid);
    const unsigned set = index(key);
    const uint32_t epoch = epoch_.load(std::memory_order_relaxed);
    // The way that holds this key, else a free or stale one, else the one the hash picks.
    unsigned way = ways_;
    for (unsigned w = 0; w < ways_ && way == ways_; ++w)
      if (table_[set + w].key.load(std::memory_order_relaxed) == key) way = w;
    for (unsigned w = 0; w < ways_ && way == ways_; ++w) {
      const Entry& e = table_[set + w];
      if (e.key.load(std::memory_order_relaxed) == kNoKey || e.epoch.load(std::memory_order_relaxed) != epoch) way = w;
    }
    if (way == ways_) way = unsigned(hash(key) >> 63) & (ways_ - 1);  // a bit index() does not use
    write(table_[set + way], key, uint64_t(hit.intid) | uint64_t(hit.cpu) << 32, hit.chunk, epoch);
  }
  void invalidate(uint32_t devid, uint32_t eventid) {
    if (!entries_) return;
    const uint64_t key = make_key(devid, eventid);
    const unsigned set = index(key);
    for (unsigned w = 0; w < ways_; ++w) {
      Entry& e = table_[set + w];
      if (e.key.load(std::memory_order_relaxed) == key) write(e, kNoKey, 0, nullptr, 0);
    }
  }
  void invalidate_all() {
    if (!entries_) return;
    if (epoch_.load(std::memory_order_relaxed) == ~0u) {
      // The epoch is about to wrap: an entry from 2^32 epochs ago must not come back to life.
      for (unsigned i = 0; i < entries_; ++i) write(table_[i], kNoKey, 0, nullptr, 0);
    }
    epoch_.fetch_add(1, std::memory_order_release);
  }

 private:
  static constexpr uint64_t kNoKey = ~0ull;
  struct alignas(32) Entry {
    std::atomic<uint32_t> seq{0};
    std::atomic<uint32_t> epoch{0};
    std::atomic<uint64_t> key{kNoKey};
    std::atomic<uint64_t> val{0};
    std::atomic<LpiTable::Chunk*> chunk{nullptr};
  };
  bool lookup_in(const Entry& e, uint64_t key, Hit& hit) const {
    const uint32_t s1 = e.seq.load(std::memory_order_acquire);
    if (s1 & 1) return false;
    const uint64_t k = e.key.load(std::memory_order_relaxed);
    const uint64_t v = e.val.load(std::memory_order_relaxed);
    LpiTable::Chunk* c = e.chunk.load(std::memory_order_relaxed);
    const uint32_t ep = e.epoch.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.seq.load(std::memory_order_relaxed) != s1) return false;
    if (k != key || ep != epoch_.load(std::memory_order_acquire) || !c) return false;
    hit = Hit{uint32_t(v), uint16_t(v >> 32), c};
    return true;
  }
  static uint64_t make_key(uint32_t devid, uint32_t eventid) { return uint64_t(devid) << 32 | eventid; }
  static uint64_t hash(uint64_t key) { return key * 0x9E3779B97F4A7C15ull; }
  // First entry of key's set. Fibonacci hashing: consecutive EventIDs of one device and equal
  // EventIDs of neighbouring devices spread over the table.
  unsigned index(uint64_t key) const { return unsigned(hash(key) >> 32) & mask_; }
  static void write(Entry& e, uint64_t key, uint64_t val, LpiTable::Chunk* c, uint32_t epoch) {
    const uint32_t s = e.seq.load(std::memory_order_relaxed);
    e.seq.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    e.key.store(key, std::memory_order_relaxed);
    e.val.store(val, std::memory_order_relaxed);
    e.chunk.store(c, std::memory_order_relaxed);
    e.epoch.store(epoch, std::memory_order_relaxed);
    e.seq.store(s + 2, std::memory_order_release);
  }

  const unsigned ways_;
  const unsigned mask_;  // entries - 1 without the way bits: index() is a set's first entry
  const unsigned entries_;
  std::unique_ptr<Entry[]> table_;
  std::atomic<uint32_t> epoch_{1};
};

}  // namespace gicv3
