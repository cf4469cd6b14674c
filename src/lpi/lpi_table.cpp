#include "lpi/lpi_table.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "mem/guest_memory.hpp"

namespace gicv3 {

LpiTable::LpiTable(unsigned id_bits, uint8_t priority_mask, HostBudget& budget)
    : id_bits_(id_bits),
      pri_mask_(priority_mask),
      budget_(budget),
      dir_size_(std::max<size_t>(1, (size_t(1) << id_bits) >> (kChunkShift + kDirShift))) {
  dir_.reset(new std::atomic<Dir*>[dir_size_]);
  for (size_t i = 0; i < dir_size_; ++i) dir_[i].store(nullptr, std::memory_order_relaxed);
}

LpiTable::~LpiTable() {
  for (size_t d = 0; d < dir_size_; ++d) {
    Dir* dir = dir_[d].load(std::memory_order_relaxed);
    if (!dir) continue;
    for (auto& slot : *dir) delete slot.load(std::memory_order_relaxed);
    delete dir;
    budget_.release(sizeof(Dir));
  }
  budget_.release(nr_chunks() * sizeof(Chunk));
}

LpiTable::Chunk* LpiTable::find(uint32_t intid) const {
  if (!in_range(intid)) return nullptr;
  const uint32_t chunk = intid >> kChunkShift;
  Dir* dir = dir_[chunk >> kDirShift].load(std::memory_order_acquire);
  return dir ? (*dir)[chunk & ((1u << kDirShift) - 1)].load(std::memory_order_acquire) : nullptr;
}

LpiTable::Chunk* LpiTable::get_or_create(uint32_t intid, const GuestMemory& mem, uint64_t prop_pa) {
  if (Chunk* c = find(intid)) return c;
  if (!in_range(intid)) return nullptr;
  std::lock_guard l(alloc_lock_);
  const uint32_t chunk = intid >> kChunkShift;
  std::atomic<Dir*>& dslot = dir_[chunk >> kDirShift];
  Dir* dir = dslot.load(std::memory_order_acquire);
  if (dir)
    if (Chunk* c = (*dir)[chunk & ((1u << kDirShift) - 1)].load(std::memory_order_acquire)) return c;
  // Charge the chunk and, if needed, its directory block together: all or nothing.
  if (!budget_.charge(sizeof(Chunk) + (dir ? 0 : sizeof(Dir)))) return nullptr;
  // A host out of memory within the budget is treated as the budget running out (callers count a
  // guest error and drop or keep the LPI as they document), never as an exception.
  if (!dir) {
    dir = new (std::nothrow) Dir();
    if (!dir) {
      budget_.release(sizeof(Chunk) + sizeof(Dir));
      return nullptr;
    }
    for (auto& s : *dir) s.store(nullptr, std::memory_order_relaxed);
    dslot.store(dir, std::memory_order_release);
  }
  std::atomic<Chunk*>& slot = (*dir)[chunk & ((1u << kDirShift) - 1)];
  auto* c = new (std::nothrow) Chunk(chunk << kChunkShift);
  if (!c) {
    budget_.release(sizeof(Chunk));
    return nullptr;
  }
  std::memset(c->bucket, Chunk::kNoBucket, sizeof c->bucket);
  // The configuration is loaded before the chunk is published, so a reader never sees a chunk
  // without it (IHI0069 5.1.1: the GIC may read and cache configuration at any time). Any address,
  // 0 included, may hold the table; memory that is not RAM reads as "disabled".
  {
    uint8_t cfg[kChunkSize];
    read_config_block(mem, prop_pa, c->base, cfg);
    for (unsigned i = 0; i < kChunkSize; ++i) c->config[i].store(cfg[i], std::memory_order_relaxed);
  }
  slot.store(c, std::memory_order_release);
  nr_chunks_.fetch_add(1, std::memory_order_relaxed);
  return c;
}

void LpiTable::mark_dirty(Chunk* c, uint32_t words) {
  // Already queued for the owner (some word was dirty): it takes these words too.
  // seq_cst here and on the push: GicCore::post_lpi reads the CPU lock word after them and relies
  // on the single total order (no extra instruction on x86).
  if (c->dirty.fetch_or(words, std::memory_order_seq_cst)) return;
  Chunk* head = dirty_head_.load(std::memory_order_relaxed);
  do {
    c->next_dirty = head;
  } while (!dirty_head_.compare_exchange_weak(head, c, std::memory_order_seq_cst, std::memory_order_relaxed));
}

bool LpiTable::set_pending(uint32_t intid, bool* newly_set) {
  Chunk* c = find(intid);
  if (!c) return false;
  set_pending_in(*c, intid, newly_set);
  return true;
}

void LpiTable::set_pending_in(Chunk& chunk, uint32_t intid, bool* newly_set) {
  Chunk* c = &chunk;
  const unsigned i = intid - c->base;
  const uint64_t bit = 1ull << (i % 64);
  std::atomic<uint64_t>& word = c->pending[i / 64];
  // Already pending: the MSI coalesces into it (IHI0069 5.1: an LPI is pending or not), and a plain
  // load is enough: at this point the LPI was pending, so the set is linearized here, before any
  // acknowledge or clear that follows. This keeps a locked read-modify-write off the MSI hit path
  // of a busy LPI (issue 7).
  bool was = word.load(std::memory_order_acquire) & bit;
  if (!was) was = word.fetch_or(bit, std::memory_order_acq_rel) & bit;
  if (!was) mark_dirty(c, 1u << (i / 64));
  if (newly_set) *newly_set = !was;
}

bool LpiTable::clear_pending(uint32_t intid) {
  Chunk* c = find(intid);
  if (!c) return false;
  const unsigned i = intid - c->base;
  const uint64_t bit = 1ull << (i % 64);
  if (c->pending[i / 64].fetch_and(~bit, std::memory_order_acq_rel) & bit) mark_dirty(c, 1u << (i / 64));
  return true;
}

bool LpiTable::take_pending(uint32_t intid) {
  Chunk* c = find(intid);
  if (!c) return false;
  const unsigned i = intid - c->base;
  const uint64_t bit = 1ull << (i % 64);
  const bool was = c->pending[i / 64].fetch_and(~bit, std::memory_order_acq_rel) & bit;
  if (was) mark_dirty(c, 1u << (i / 64));
  return was;
}

void LpiTable::read_config_block(const GuestMemory& mem, uint64_t prop_pa, uint32_t base, uint8_t (&cfg)[kChunkSize]) {
  std::memset(cfg, 0, kChunkSize);
  const uint32_t first = std::max(base, Intid::kLpiBase);  // the table starts at INTID 8192
  if (first >= base + kChunkSize) return;
  if (!mem.read(prop_pa + (first - Intid::kLpiBase), cfg + (first - base), base + kChunkSize - first))
    std::memset(cfg, 0, kChunkSize);
}

void LpiTable::add_pending(uint32_t base, const PendingWords& bits, const GuestMemory& mem, uint64_t prop_pa) {
  Chunk* c = find(base);
  if (!c) return;
  uint8_t config[kChunkSize];
  read_config_block(mem, prop_pa, base, config);
  uint32_t words = 0;
  for (unsigned w = 0; w < kWords; ++w) {
    if (!bits[w]) continue;
    for (uint64_t b = bits[w]; b; b &= b - 1) {
      const unsigned i = w * 64 + unsigned(__builtin_ctzll(b));
      c->config[i].store(config[i], std::memory_order_relaxed);
    }
    // The configuration is stored before the pending bit: the owner that sees the bit (acquire on
    // its side, through the dirty stack) sees the byte.
    c->pending[w].fetch_or(bits[w], std::memory_order_acq_rel);
    words |= 1u << w;
  }
  if (words) mark_dirty(c, words);
}

bool LpiTable::is_pending(uint32_t intid) const {
  const Chunk* c = find(intid);
  if (!c) return false;
  const unsigned i = intid - c->base;
  return (c->pending[i / 64].load(std::memory_order_acquire) >> (i % 64)) & 1;
}

void LpiTable::set_config(uint32_t intid, uint8_t config) {
  Chunk* c = find(intid);
  if (!c) return;  // not cached: it is read when the chunk is created
  c->config[intid - c->base].store(config, std::memory_order_release);
  mark_dirty(c, 1u << ((intid - c->base) / 64));
}

uint8_t LpiTable::config(uint32_t intid) const {
  const Chunk* c = find(intid);
  return c ? c->config[intid - c->base].load(std::memory_order_acquire) : 0;
}

bool LpiTable::reload_config(uint32_t intid, const GuestMemory& mem, uint64_t prop_pa) {
  if (intid < Intid::kLpiBase) return false;
  std::lock_guard l(alloc_lock_);
  // Without the LPI's state there is nothing cached: the byte is read when the chunk is created.
  if (!find(intid)) return false;
  uint8_t cfg = 0;  // configuration memory that is not RAM reads as "disabled"
  (void)mem.read(prop_pa + (intid - Intid::kLpiBase), &cfg, 1);
  if (config(intid) == cfg) return false;
  set_config(intid, cfg);
  return true;
}

void LpiTable::reload_all_config(const GuestMemory& mem, uint64_t prop_pa) {
  std::lock_guard l(alloc_lock_);  // see alloc_lock_
  std::vector<Chunk*> chunks;
  for_each_chunk([&](const Chunk& c) { chunks.push_back(const_cast<Chunk*>(&c)); });
  for (Chunk* c : chunks) {
    uint8_t cfg[kChunkSize];
    read_config_block(mem, prop_pa, c->base, cfg);
    for (unsigned i = 0; i < kChunkSize; ++i) c->config[i].store(cfg[i], std::memory_order_relaxed);
    mark_dirty(c, Chunk::kAllWords);
  }
}

// --- Owner side ---------------------------------------------------------------------------

void LpiTable::bucket_insert(Chunk& chunk, uint32_t intid, uint8_t b) {
  Chunk* c = &chunk;
  const unsigned i = intid - c->base;
  c->bucket[i] = b;
  c->next[i] = kNone;
  c->prev[i] = tail_[b];
  if (tail_[b]) {
    Chunk* t = find(tail_[b]);
    t->next[tail_[b] - t->base] = intid;
  } else {
    head_[b] = intid;
  }
  tail_[b] = intid;
  nonempty_ |= 1ull << b;
}

void LpiTable::bucket_remove(Chunk& chunk, uint32_t intid) {
  Chunk* c = &chunk;
  const unsigned i = intid - c->base;
  const uint8_t b = c->bucket[i];
  if (b == Chunk::kNoBucket) return;
  const uint32_t p = c->prev[i], n = c->next[i];
  if (p) {
    Chunk* pc = find(p);
    pc->next[p - pc->base] = n;
  } else {
    head_[b] = n;
  }
  if (n) {
    Chunk* nc = find(n);
    nc->prev[n - nc->base] = p;
  } else {
    tail_[b] = p;
  }
  if (!head_[b]) nonempty_ &= ~(1ull << b);
  c->bucket[i] = Chunk::kNoBucket;
}

void LpiTable::reevaluate(Chunk& c, uint32_t words) {
  for (; words; words &= words - 1) {
    const unsigned w = unsigned(__builtin_ctz(words));
    const uint64_t pend = c.pending[w].load(std::memory_order_acquire);
    // Only LPIs pending now or before can change bucket: every bucketed LPI is in queued.
    const uint64_t look = pend | c.queued[w];
    c.queued[w] = pend;
    for (uint64_t bits = look; bits; bits &= bits - 1) {
      const unsigned bitpos = unsigned(__builtin_ctzll(bits));
      const unsigned i = w * 64 + bitpos;
      const uint32_t intid = c.base + i;
      const bool p = (pend >> bitpos) & 1;
      const uint8_t cfg = c.config[i].load(std::memory_order_acquire);
      // A pending LPI whose configuration disables it stays pending, outside the buckets, until an
      // INV makes it enabled (IHI0069 5.1.1).
      uint8_t want = Chunk::kNoBucket;
      if (p && (cfg & LPI_CONFIG::kEnable)) want = uint8_t((cfg & LPI_CONFIG::kPriorityMask & pri_mask_) >> 2);
      if (want == c.bucket[i]) continue;
      bucket_remove(c, intid);
      if (want != Chunk::kNoBucket) bucket_insert(c, intid, want);
    }
  }
}

void LpiTable::process() {
  // Nothing signalled (the common case on an update for another reason): no locked exchange.
  if (!has_dirty()) return;
  Chunk* c = dirty_head_.exchange(nullptr, std::memory_order_seq_cst);
  while (c) {
    Chunk* next = c->next_dirty;
    // Take the dirty words and clear them before reading the bits: a change made after this point
    // marks its word again and, the mask being empty, queues the chunk again.
    const uint32_t words = c->dirty.exchange(0, std::memory_order_seq_cst);
    reevaluate(*c, words);
    c = next;
  }
}

uint32_t LpiTable::best(uint8_t& priority) const {
  if (!nonempty_) return 0;
  const unsigned b = unsigned(__builtin_ctzll(nonempty_));
  priority = uint8_t(b << 2);
  return head_[b];
}

bool LpiTable::acknowledge(uint32_t intid) {
  Chunk* c = find(intid);
  if (!c) return false;
  const unsigned i = intid - c->base;
  const uint64_t bit = 1ull << (i % 64);
  const bool was = c->pending[i / 64].fetch_and(~bit, std::memory_order_acq_rel) & bit;
  // Either way it leaves the buckets: not pending now (the taker's dirty mark may still be on its
  // way, and must not be needed for the next selection to skip it).
  c->queued[i / 64] &= ~bit;
  bucket_remove(*c, intid);
  return was;
}

bool LpiTable::write_pending(GuestMemory& mem, uint64_t pend_pa, uint32_t limit, bool clear) {
  bool ok = true;
  for_each_chunk([&](const Chunk& cc) {
    Chunk& c = const_cast<Chunk&>(cc);
    uint8_t bytes[kChunkSize / 8];
    for (unsigned w = 0; w < kWords; ++w) {
      const uint64_t v = clear ? c.pending[w].exchange(0, std::memory_order_acq_rel) : c.pending[w].load(std::memory_order_acquire);
      for (unsigned b = 0; b < 8; ++b) bytes[w * 8 + b] = uint8_t(v >> (8 * b));
      if (clear) c.queued[w] = 0;
    }
    if (clear)
      for (unsigned i = 0; i < kChunkSize; ++i) c.bucket[i] = Chunk::kNoBucket;
    // The first 1 KiB of the table (INTIDs < 8192) is IMPLEMENTATION DEFINED: vgic never writes it.
    if (c.base >= Intid::kLpiBase && c.base < limit && !mem.write(pend_pa + c.base / 8, bytes, sizeof bytes)) ok = false;
  });
  if (clear) {
    head_.fill(kNone);
    tail_.fill(kNone);
    nonempty_ = 0;
  }
  return ok;
}

bool LpiTable::enable(const GuestMemory& mem, uint64_t prop_pa, uint64_t pend_pa, bool ptz, uint32_t limit) {
  // Start from nothing pending; configuration is re-read (it may have changed while disabled).
  for_each_chunk([&](const Chunk& cc) {
    Chunk& c = const_cast<Chunk&>(cc);
    for (unsigned w = 0; w < kWords; ++w) {
      c.pending[w].store(0, std::memory_order_relaxed);
      c.queued[w] = 0;
    }
    for (unsigned i = 0; i < kChunkSize; ++i) c.bucket[i] = Chunk::kNoBucket;
  });
  head_.fill(kNone);
  tail_.fill(kNone);
  nonempty_ = 0;
  reload_all_config(mem, prop_pa);
  if (ptz) return true;
  // Read the table in blocks; host state is created only for LPIs found pending.
  bool ok = true;
  // Only the INTIDs GICR_PROPBASER.IDbits puts in range (limit, exclusive; 0: none) are LPIs.
  const uint64_t end = std::min<uint64_t>(limit, uint64_t(1) << id_bits_) / 8;
  uint8_t block[4096];
  for (uint64_t off = Intid::kLpiBase / 8; off < end; off += sizeof block) {
    const size_t n = size_t(std::min<uint64_t>(sizeof block, end - off));
    if (!mem.read(pend_pa + off, block, n)) {
      ok = false;
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      for (uint8_t b = block[i]; b; b &= uint8_t(b - 1)) {
        const uint32_t intid = uint32_t((off + i) * 8 + unsigned(__builtin_ctz(b)));
        if (get_or_create(intid, mem, prop_pa))
          set_pending(intid);
        else
          ok = false;  // host budget exhausted: reported by the caller like an unreadable table
      }
    }
  }
  return ok;
}

}  // namespace gicv3
