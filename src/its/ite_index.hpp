// Lock-free index of an ITS's own ITE chunks: (DeviceID, EventID / 64) -> the chunk of 64 ITEs that
// Its::Device holds (issue 7, the cache-miss cliff). An MSI whose translation is not in the
// TranslationCache finds its ITE here without the ITS mutex, inside the same Grace read section.
//
// Why an index and not the devices_ map itself: std::unordered_map cannot be read while a command
// inserts into it. The index holds only pointers to the chunks that already exist (no copy of a
// translation): 16 bytes per slot, at most 8 slots per live chunk of 64 events (64 slots at least).
//
// Protocol (writers hold the ITS mutex; readers are inside a Grace read section):
//  - open addressing, linear probing; a slot's key never changes while its table is published, so
//    a reader that sees key K reads K's chunk (or nullptr). Removing a key clears only its value
//    (the slot stays a tombstone, reusable by the same key only).
//  - when keys (live + tombstones) would exceed half the slots, a new table is built from the live
//    entries and published; the old one is freed after Grace::synchronize().
//  - a chunk is freed by its owner only after remove() and a synchronize() (see Its: MAPD).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/grace.hpp"

namespace gicv3 {

template <class Chunk>
class IteIndex {
 public:
  explicit IteIndex(Grace& grace) : grace_(grace) {}
  ~IteIndex() { delete table_.load(std::memory_order_relaxed); }
  // Host memory the index may hold per live chunk, for the host-memory budget (the owner charges
  // it with each chunk): a table has at most 8 slots per live key (sized to 4x, rounded up to a
  // power of two) and, while a rebuild waits out its readers, the old table exists beside the new
  // one. A table whose keys were since removed keeps its size until the next rebuild, which is
  // within what its keys were charged while they were live.
  static constexpr size_t kMaxBytesPerChunk = 2 * 8 * (2 * sizeof(uint64_t));

  IteIndex(const IteIndex&) = delete;
  IteIndex& operator=(const IteIndex&) = delete;

  // Any thread, inside a Grace read section.
  Chunk* find(uint32_t devid, uint32_t chunk) const {
    const Table* t = table_.load(std::memory_order_acquire);
    if (!t) return nullptr;
    const uint64_t key = make_key(devid, chunk);
    for (uint64_t i = hash(key) & t->mask;; i = (i + 1) & t->mask) {
      const uint64_t k = t->slots[i].key.load(std::memory_order_acquire);
      if (k == key) return t->slots[i].val.load(std::memory_order_acquire);
      if (k == kEmpty) return nullptr;  // a table always keeps empty slots (load <= 1/2)
    }
  }

  // Writers: ITS mutex held. insert() may wait a grace period (when it grows the table).
  void insert(uint32_t devid, uint32_t chunk, Chunk* c) {
    const uint64_t key = make_key(devid, chunk);
    Table* t = table_.load(std::memory_order_relaxed);
    if (t) {
      if (Slot* s = probe(*t, key); s->key.load(std::memory_order_relaxed) == key) {
        if (!s->val.load(std::memory_order_relaxed)) ++t->live;
        s->val.store(c, std::memory_order_release);
        return;
      }
    }
    if (!t || 2 * (t->used + 1) > t->mask + 1) t = rebuild(t ? t->live + 1 : 1);
    Slot* s = probe(*t, key);
    s->val.store(c, std::memory_order_relaxed);
    s->key.store(key, std::memory_order_release);  // publishes the value with it
    ++t->used;
    ++t->live;
  }
  // The caller frees the chunk only after a Grace::synchronize() that follows this.
  void remove(uint32_t devid, uint32_t chunk) {
    Table* t = table_.load(std::memory_order_relaxed);
    if (!t) return;
    const uint64_t key = make_key(devid, chunk);
    Slot* s = probe(*t, key);
    if (s->key.load(std::memory_order_relaxed) != key || !s->val.load(std::memory_order_relaxed)) return;
    s->val.store(nullptr, std::memory_order_release);
    --t->live;
  }
  // Unpublishes everything and waits out every reader (bulk paths: reset, restore, snapshot).
  void clear() {
    Table* old = table_.exchange(nullptr, std::memory_order_acq_rel);
    grace_.synchronize();
    delete old;
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // never a key: chunk numbers are < 2^26
  struct Slot {
    std::atomic<uint64_t> key{kEmpty};
    std::atomic<Chunk*> val{nullptr};
  };
  struct Table {
    explicit Table(uint64_t n) : mask(n - 1), slots(new Slot[n]) {}
    uint64_t mask;
    uint64_t used = 0;  // keys present (live + tombstones)
    uint64_t live = 0;  // keys with a chunk
    std::unique_ptr<Slot[]> slots;
  };
  static uint64_t make_key(uint32_t devid, uint32_t chunk) { return uint64_t(devid) << 32 | chunk; }
  // The low bits must depend on both halves of the key (DeviceIDs differ in the high half).
  static uint64_t hash(uint64_t key) {
    key ^= key >> 32;
    key *= 0x9E3779B97F4A7C15ull;
    return key ^ key >> 29;
  }
  // key's slot, or the empty slot where it would go.
  static Slot* probe(Table& t, uint64_t key) {
    for (uint64_t i = hash(key) & t.mask;; i = (i + 1) & t.mask) {
      const uint64_t k = t.slots[i].key.load(std::memory_order_relaxed);
      if (k == key || k == kEmpty) return &t.slots[i];
    }
  }
  // A table for `live` keys at load <= 1/4, holding the live entries of the current one; the old
  // table is freed after a grace period (a reader may be probing it).
  Table* rebuild(uint64_t live) {
    uint64_t n = kMinSlots;
    while (n < 4 * live) n *= 2;
    auto* fresh = new Table(n);
    Table* old = table_.load(std::memory_order_relaxed);
    if (old) {
      for (uint64_t i = 0; i <= old->mask; ++i) {
        Chunk* c = old->slots[i].val.load(std::memory_order_relaxed);
        if (!c) continue;
        const uint64_t key = old->slots[i].key.load(std::memory_order_relaxed);
        Slot* s = probe(*fresh, key);
        s->key.store(key, std::memory_order_relaxed);
        s->val.store(c, std::memory_order_relaxed);
        ++fresh->used;
        ++fresh->live;
      }
    }
    table_.store(fresh, std::memory_order_release);
    if (old) {
      grace_.synchronize();
      delete old;
    }
    return fresh;
  }

  static constexpr uint64_t kMinSlots = 64;
  static_assert(sizeof(Slot) == 2 * sizeof(uint64_t), "kMaxBytesPerChunk counts 16-byte slots");
  Grace& grace_;
  std::atomic<Table*> table_{nullptr};
};

}  // namespace gicv3
