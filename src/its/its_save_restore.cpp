// KVM_DEV_ARM_ITS_SAVE_TABLES / KVM_DEV_ARM_ITS_RESTORE_TABLES: the ITS's translations written
// into, and read back from, the guest's own tables in the KVM ITS table ABI revision 0
// (its/its_abi.hpp; Linux Documentation/virt/kvm/devices/arm-vgic-its.rst).
//
// Decisions:
//  - Where entries go. The device table is indexed by DeviceID and each ITT by EventID (through
//    table_entry_address(), the one walker, for flat and two-level tables); the collection table
//    is a list in ascending ICID order, as the ABI allows ("no particular order").
//  - Which memory holds entries. A table page (every page of a flat table, the level-2 page of
//    each valid level-1 entry) or an ITT (2^(Size+1) entries of 8 bytes) holds entries only if it
//    is guest RAM and overlaps no memory claimed before it, in the order device table (level-1
//    table, pages), collection table, ITTs. SAVE and RESTORE apply the same rule, so RESTORE looks
//    exactly where SAVE wrote.
//  - SAVE writes such memory whole: entries of IDs that are not mapped are written as 0, so a
//    stale DTE/ITE of an unmapped device or a discarded event never survives into a restore
//    (a KVM bug class: KVM later had MAPD/DISCARD clear them). Next links the saved entries.
//  - SAVE never fails because of the guest. What its tables cannot represent any more (a
//    DeviceID the device table no longer covers: table shrunk, level-2 page dropped; an ITT not in
//    RAM or overlapping other ITS memory; an ITE or collection whose ICID the collection table no
//    longer covers; more collections than collection-table entries) is skipped, counted as a
//    guest error ("its-save-skipped", one trace event each) and SAVE returns 0. KVM returns
//    -EFAULT/-EINVAL there, which blocks the migration of a guest that only broke its own tables.
//  - RESTORE validates everything first, builds the translations in temporaries and swaps them
//    in only when both tables are valid. Checked: CTE RES0 bits clear, ICID within CIDbits and
//    covered by the collection table, listed once, RDBase a CPU (or KVM's COLLECTION_NOT_MAPPED),
//    no valid CTE after the end of the list; DeviceID within Devbits, Size + 1 within ID_bits,
//    ITTs in RAM and overlapping nothing; pINTID an LPI of this GIC, ITE ICID as for MAPTI; and
//    every Next exactly what SAVE writes (so no valid entry hides off the chain). Two EventIDs of
//    a device mapping one LPI are accepted: MAPTI accepts that (as KVM's does), and RESTORE must
//    take back every state the commands can build. On any failure the answer is
//    VGIC_EINVAL (malformed) or VGIC_EFAULT (a valid table whose first page / level-1 entry,
//    or a valid DTE's ITT, is not guest RAM: KVM's "invalid guest RAM access", and what a VMM that
//    forgot vgic_map_ram gets), with the ITS, guest RAM and the redistributors unchanged.
//  - Collections an ITE names but no MAPC mapped are saved as KVM saves them (RDBase =
//    COLLECTION_NOT_MAPPED), so that a KVM restore finds every ITE's collection.
//  - Cost: SAVE writes and RESTORE reads every table page and every ITT whole, i.e. in proportion
//    to the tables the guest declared (an ITT is at most 2^ID_bits x 8 bytes), not to what is mapped.
//  - The one asymmetry: a table whose first page (level-1 table) is outside RAM has its entries
//    skipped at SAVE (reported) and RESTORE answers VGIC_EFAULT; an ITS that keeps its tables in
//    memory could not have used such a table either.
//  - Pending state (seed 003, consume-on-create): once swapped in, every restored event whose
//    collection is mapped moves its LPI's bit from the target's pending table into the
//    redistributor, in DeviceID then EventID order (GicCore::consume_lpis_pending_blocks: the
//    effect of consume_lpi_pending on each, the table read a block at a time). Done after the ITS
//    lock is released: the helper takes a CPU lock, which the ITS lock must never wait for (its.hpp).
#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "gic/gic_core.hpp"
#include "its/its.hpp"
#include "its/its_abi.hpp"

namespace gicv3 {

namespace {

constexpr uint64_t kBlock = 65536;  // bytes per guest-memory access when writing/reading an ITT
constexpr uint64_t kEsz = its_abi::kEntrySize;

uint64_t le(uint64_t v) { return std::endian::native == std::endian::little ? v : __builtin_bswap64(v); }

// Index of the first non-zero word of `words` at or after `from` (words.size() if none). RESTORE
// reads every page the BASERs declare, and such tables are mostly zero (invalid entries); a block
// compare against zeros skips them at memory speed where a per-entry decode cost ~20 instructions
// an entry (and, in the fuzzers' coverage-instrumented builds, most of their time).
size_t next_nonzero_run(std::span<const uint64_t> words, size_t from) {
  constexpr size_t kRun = 64;
  static constexpr uint64_t kZeros[kRun] = {};
  size_t i = from;
  while (i + kRun <= words.size() && std::memcmp(&words[i], kZeros, sizeof(kZeros)) == 0) i += kRun;
  while (i < words.size() && words[i] == 0) ++i;
  return i;
}
// Dense tables (every entry valid, as an ITT of a device using all its events) take the first test.
inline size_t next_nonzero(std::span<const uint64_t> words, size_t from) {
  return from < words.size() && words[from] != 0 ? from : next_nonzero_run(words, from);
}

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Guest memory that SAVE writes and RESTORE reads: each byte belongs to at most one table page,
// level-1 table or ITT.
class Claims {
 public:
  bool claim(uint64_t start, uint64_t len) {
    const uint64_t end = start + len;  // addresses < 2^52, lengths < 2^36: no wrap
    auto next = ranges_.upper_bound(start);
    if (next != ranges_.end() && next->first < end) return false;
    if (next != ranges_.begin() && std::prev(next)->second > start) return false;
    ranges_.emplace(start, end);
    return true;
  }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // start -> end
};

struct TablePage {
  uint64_t first_id, addr;
};

// The pages of one table that hold entries, in ID order (see the file comment).
struct TablePages {
  std::vector<TablePage> pages;
  bool base_in_ram = true;  // the first page (flat) / first level-1 entry (two-level) is guest RAM
  uint64_t ids_per_page = 1;
  const TablePage* find(uint64_t id) const {
    auto it = std::lower_bound(pages.begin(), pages.end(), id / ids_per_page * ids_per_page,
                               [](const TablePage& p, uint64_t first) { return p.first_id < first; });
    return it != pages.end() && it->first_id == id / ids_per_page * ids_per_page ? &*it : nullptr;
  }
};

// nr_ids: the ID range of the table (GITS_TYPER.Devbits / CIDbits): pages, or level-1 entries,
// beyond it hold no entries and are neither read nor claimed (a huge indirect table costs only
// what the ID range can use).
TablePages table_pages(const GuestMemory& mem, const TableGeometry& t, Claims& claims, uint64_t nr_ids) {
  TablePages s;
  s.ids_per_page = t.ids_per_page();
  if (!t.valid) return s;
  // The level-1 table is the guest's: never written, but nothing written may land on it.
  if (t.indirect) (void)claims.claim(t.base, t.bytes());
  const uint64_t n = std::min<uint64_t>(t.indirect ? t.bytes() / 8 : t.pages, (nr_ids + s.ids_per_page - 1) / s.ids_per_page);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t addr = 0;
    const TableLookup l = table_entry_address(mem, t, i * s.ids_per_page, addr);
    if (l == TableLookup::l1_invalid) continue;  // IHI0069 5.2.1: IDs not backed by memory
    const bool ram = l == TableLookup::ok && mem.is_ram(addr, t.page_size);
    if (i == 0 && (t.indirect ? l == TableLookup::unreadable : !ram)) s.base_in_ram = false;
    if (ram && claims.claim(addr, t.page_size)) s.pages.push_back({i * s.ids_per_page, addr});
  }
  return s;
}

// The Next field SAVE writes for the entry at ids[i] of an ascending list of saved IDs.
template <class NextField, class Ids>
uint64_t expected_next(const Ids& ids, size_t i) {
  return its_abi::next_offset<NextField>(ids[i], i + 1 < ids.size() ? ids[i + 1] : 0, i + 1 == ids.size());
}

}  // namespace

// ABI revision 0 has no place for collections the ITS holds itself (GITS_TYPER.HCC > 0: KVM's HCC
// is 0), so an ITS with HCC does not offer it rather than save tables that lose them.
bool Its::implements_table_abi() const {
  return GITS_IIDR::Revision::get(iidr_) == its_abi::kRevision && cfg_.itt_entry_size == its_abi::kEntrySize &&
         cfg_.hcc == 0;
}

struct ItsTableAbi {
  Its& its;
  GuestMemory& mem;
  Claims claims;
  TablePages dev_pages, coll_pages;

  explicit ItsTableAbi(Its& i) : its(i), mem(i.gic_.memory()) {
    dev_pages = table_pages(mem, TableGeometry::from_baser(its.baser_[0]), claims, uint64_t(1) << its.cfg_.device_id_bits);
    coll_pages = table_pages(mem, TableGeometry::from_baser(its.baser_[1]), claims, uint64_t(1) << its.cfg_.collection_id_bits);
  }

  uint64_t itt_bytes(unsigned event_bits) const { return (uint64_t(1) << event_bits) * kEsz; }
  // Memoized per ICID (the tables do not change during one save or restore, which runs under the
  // ITS lock): the check reads guest memory, and it is made for every ITE (issue 7).
  bool icid_covered(uint32_t icid) {
    if (icid == last_covered) return true;  // ITEs in a row mostly name one collection
    if (icid >> its.cfg_.collection_id_bits) return false;
    if (covered_memo.empty()) covered_memo.assign(size_t(1) << its.cfg_.collection_id_bits, 0);
    uint8_t& m = covered_memo[icid];
    if (!m) m = its.check_id(1, icid) == TableLookup::ok ? 1 : 2;
    if (m == 1) last_covered = icid;
    return m == 1;
  }
  std::vector<uint8_t> covered_memo;  // 0: not checked yet, 1: covered, 2: not
  uint32_t last_covered = UINT32_MAX;  // an ICID found covered (never UINT32_MAX: ICIDs are 16-bit)
  void write_page(const TablePage& p, const std::vector<uint64_t>& words) {
    if (!mem.write(p.addr, words.data(), words.size() * kEsz))  // unmapped since table_pages()
      skip(p.addr, 0, [&] { return "ITS table page at " + hex(p.addr) + " no longer in guest RAM; its entries are lost"; });
  }

  // ---- SAVE -------------------------------------------------------------------------------------
  Its::SaveReport report;

  // `what` builds the message; it runs only for an event the trace sink receives (a guest can make
  // every entry of a large table skipped).
  template <class Describe>
  void skip(uint64_t id, uint64_t value, Describe&& what) {
    ++report.skipped;
    its.gic_.log().guest_error("its-save-skipped", "gits", TraceLog::kNoCpu, id, value, what);
  }

  struct SavedDevice {
    uint32_t id;
    const Its::Device* dev;
  };

  void save() {
    std::vector<uint32_t> ids;
    for (auto& [id, d] : its.devices_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    std::vector<SavedDevice> saved;
    std::set<uint32_t> referenced;  // ICIDs named by a saved ITE
    for (uint32_t id : ids) {
      const Its::Device& d = its.devices_.at(id);
      const uint64_t bytes = itt_bytes(d.event_bits);
      if (!dev_pages.find(id)) {
        skip(id, 0, [&] {
          return "DeviceID " + std::to_string(id) +
                 " has no usable device-table entry (not covered by GITS_BASER0 or a valid level-1 entry any "
                 "more, or its page is not guest RAM or overlaps other ITS memory); device not saved";
        });
      } else if (!mem.is_ram(d.itt_addr, bytes) || !claims.claim(d.itt_addr, bytes)) {
        skip(id, d.itt_addr, [&] {
          return "ITT of DeviceID " + std::to_string(id) + " at " + hex(d.itt_addr) +
                 " not in guest RAM or overlapping other ITS memory; device not saved";
        });
      } else if (save_itt(id, d, referenced)) {
        saved.push_back({id, &d});
      }
    }
    std::vector<uint64_t> saved_ids;
    for (const SavedDevice& s : saved) saved_ids.push_back(s.id);
    // Every page of the device table, whole; each saved device at its DeviceID.
    size_t next = 0;
    for (const TablePage& p : dev_pages.pages) {
      std::vector<uint64_t> words(dev_pages.ids_per_page, 0);
      for (; next < saved.size() && saved[next].id < p.first_id + dev_pages.ids_per_page; ++next) {
        const Its::Device& d = *saved[next].dev;
        const DeviceTableEntry e{true, uint16_t(expected_next<ITS_DTE::Next>(saved_ids, next)), d.itt_addr,
                                 uint8_t(d.event_bits - 1)};
        words[saved[next].id - p.first_id] = le(e.encode());
        ++report.devices;
      }
      write_page(p, words);
    }
    save_collections(referenced);
  }

  // One device's ITT, whole, in kBlock pieces. False if the ITT could not be written.
  bool save_itt(uint32_t id, const Its::Device& d, std::set<uint32_t>& referenced) {
    // EventID order: sort the chunks (64 events each), not the events (issue 7: sorting every ITE
    // was most of a save).
    std::vector<uint32_t> chunks;
    chunks.reserve(d.ites.size());
    for (auto& [chunk, arr] : d.ites) chunks.push_back(chunk);
    std::sort(chunks.begin(), chunks.end());
    std::vector<std::pair<uint32_t, Its::Ite>> ites;
    ites.reserve(d.nr_ites);
    for (uint32_t chunk : chunks) {
      const Its::Ite* arr = d.ites.find(chunk)->second.get();
      for (unsigned i = 0; i < Its::Device::kChunk; ++i)
        if (arr[i].valid) ites.emplace_back(chunk * Its::Device::kChunk + i, arr[i]);
    }
    std::vector<uint32_t> events;
    std::vector<Its::Ite> kept;
    for (auto& [event, ite] : ites) {
      if (!icid_covered(ite.icid)) {
        skip(id, event, [&, ev = event, icid = ite.icid] {
          return "DeviceID " + std::to_string(id) + " EventID " + std::to_string(ev) + ": ICID " +
                 std::to_string(icid) + " no longer covered by the collection table; event not saved";
        });
        continue;
      }
      events.push_back(event);
      kept.push_back(ite);
    }
    const uint64_t total = itt_bytes(d.event_bits);
    size_t k = 0;
    std::vector<uint64_t> words;
    for (uint64_t off = 0; off < total; off += kBlock) {
      const uint64_t len = std::min(kBlock, total - off);
      const uint64_t end_event = (off + len) / kEsz;
      bool ok;
      if (k < events.size() && events[k] < end_event) {
        words.assign(len / kEsz, 0);
        for (; k < events.size() && events[k] < end_event; ++k) {
          const InterruptTableEntry e{uint16_t(expected_next<ITS_ITE::Next>(events, k)), kept[k].intid, kept[k].icid};
          words[events[k] - off / kEsz] = le(e.encode());
        }
        ok = mem.write(d.itt_addr + off, words.data(), len);
      } else {
        ok = mem.fill(d.itt_addr + off, 0, len);
      }
      if (!ok) {
        skip(id, d.itt_addr, [&] { return "ITT of DeviceID " + std::to_string(id) + " no longer in guest RAM; device not saved"; });
        return false;
      }
    }
    for (size_t i = 0; i < kept.size(); ++i)
      if (i == 0 || kept[i].icid != kept[i - 1].icid) referenced.insert(kept[i].icid);
    report.ites += kept.size();
    return true;
  }

  void save_collections(const std::set<uint32_t>& referenced) {
    // Mapped collections, and (as KVM) those a saved ITE names without a mapping.
    std::map<uint32_t, uint64_t> ctes;  // ICID -> RDBase
    for (uint32_t icid : referenced) ctes[icid] = ITS_CTE::kNotMapped;
    for (auto& [icid, cpu] : its.collections_) ctes[icid] = cpu;
    auto it = ctes.begin();
    for (const TablePage& p : coll_pages.pages) {
      std::vector<uint64_t> words(coll_pages.ids_per_page, 0);
      for (size_t slot = 0; slot < words.size() && it != ctes.end(); ++it) {
        if (!icid_covered(it->first)) {
          skip(it->first, it->second, [&] {
            return "ICID " + std::to_string(it->first) + " no longer covered by the collection table; collection not saved";
          });
          continue;
        }
        words[slot++] = le(CollectionTableEntry{true, it->second, uint16_t(it->first), 0}.encode());
        ++report.collections;
      }
      write_page(p, words);
    }
    for (; it != ctes.end(); ++it)
      skip(it->first, it->second,
           [&] { return "no collection-table entry left for ICID " + std::to_string(it->first) + "; collection not saved"; });
  }

  // ---- RESTORE ----------------------------------------------------------------------------------
  std::unordered_map<uint32_t, Its::Device> devices;
  std::unordered_map<uint32_t, uint16_t> collections;
  size_t charged = 0;

  ~ItsTableAbi() { its.gic_.budget().release(charged); }

  static Status bad(const std::string& what) { return {Errc::invalid_argument, "ITS_RESTORE_TABLES: " + what}; }
  static Status fault(const std::string& what) { return {Errc::fault, "ITS_RESTORE_TABLES: " + what}; }
  bool charge(size_t bytes) {
    if (!its.gic_.budget().charge(bytes)) return false;
    charged += bytes;
    return true;
  }

  // Raw (guest byte order) words: callers convert the non-zero ones they decode. The buffer is
  // not zero-filled first (the read overwrites all of it; a table page is up to 64 KiB).
  std::unique_ptr<uint64_t[]> buffer;
  size_t buffer_words = 0;
  std::span<const uint64_t> read_words(uint64_t addr, uint64_t bytes, bool& ok) {
    if (bytes / kEsz > buffer_words) {
      buffer = std::make_unique_for_overwrite<uint64_t[]>(bytes / kEsz);
      buffer_words = bytes / kEsz;
    }
    ok = mem.read(addr, buffer.get(), bytes);
    return {buffer.get(), size_t(bytes / kEsz)};
  }

  Status restore() {
    if (!dev_pages.base_in_ram) return fault("the device table (GITS_BASER0) is not in guest RAM");
    if (!coll_pages.base_in_ram) return fault("the collection table (GITS_BASER1) is not in guest RAM");
    if (Status s = restore_collections(); !s) return s;
    return restore_devices();
  }

  // CTEs: a list of valid entries, then invalid ones only (arm-vgic-its.rst: the list ends with
  // an invalid entry unless the table is full).
  // The list ends at the first invalid entry; what follows is not read. KVM restores the same way
  // (vgic_its_restore_collection_table stops at the first invalid CTE), and its save writes one
  // zero terminator without clearing the rest, so a table saved after a MAPC V=0 holds stale
  // valid CTEs after the terminator.
  Status restore_collections() {
    std::set<uint32_t> seen;
    for (const TablePage& p : coll_pages.pages) {
      bool ok;
      const std::span<const uint64_t> words = read_words(p.addr, coll_pages.ids_per_page * kEsz, ok);
      if (!ok)
        return fault("collection table page at " + hex(p.addr) + " unreadable");
      size_t at = 0;  // the entry after the last one decoded
      for (size_t i = next_nonzero(words, 0);; i = next_nonzero(words, i + 1)) {
        if (i != at) return {};  // a zero (invalid) entry in [at, i) ends the list
        if (i == words.size()) break;
        at = i + 1;
        const uint64_t w = le(words[i]);
        const CollectionTableEntry e = CollectionTableEntry::decode(w);
        // Built only for an error message (issue 7: a string per entry was most of a restore).
        const auto where = [&] { return "CTE " + hex(w) + ": "; };
        if (!e.valid) return {};
        if (e.res0) return bad(where() + "RES0 bits [62:52] set");
        if (!icid_covered(e.icid)) return bad(where() + "ICID beyond GITS_TYPER.CIDbits or not covered by the collection table");
        // EEXIST, as KVM's vgic_its_restore_cte answers a collection it already holds.
        if (!seen.insert(e.icid).second) return {Errc::exists, "ITS_RESTORE_TABLES: " + where() + "ICID listed twice"};
        if (e.rdbase == ITS_CTE::kNotMapped) continue;  // KVM: named by an ITE, never mapped
        if (e.rdbase >= its.gic_.nr_cpus()) return bad(where() + "RDBase names no CPU");
        collections[e.icid] = uint16_t(e.rdbase);
      }
    }
    return {};
  }

  // DTEs: every valid entry, in DeviceID order, its Next linking to the following one.
  Status restore_devices() {
    consume.assign(its.gic_.nr_cpus(), {});
    uint32_t max_icid = 0;
    for (auto [icid, cpu] : collections) max_icid = std::max(max_icid, icid);
    if (!collections.empty()) cpu_of_icid.assign(size_t(max_icid) + 1, -1);  // ICIDs < 2^16
    for (auto [icid, cpu] : collections) cpu_of_icid[icid] = cpu;
    std::vector<uint64_t> ids;
    std::vector<DeviceTableEntry> dtes;
    for (const TablePage& p : dev_pages.pages) {
      bool ok;
      const std::span<const uint64_t> words = read_words(p.addr, dev_pages.ids_per_page * kEsz, ok);
      if (!ok)
        return fault("device table page at " + hex(p.addr) + " unreadable");
      for (size_t i = next_nonzero(words, 0); i < words.size(); i = next_nonzero(words, i + 1)) {
        const DeviceTableEntry e = DeviceTableEntry::decode(le(words[i]));
        if (!e.valid) continue;  // "other fields are not meaningful"
        ids.push_back(p.first_id + i);
        dtes.push_back(e);
      }
    }
    const ItsConfig& k = its.cfg_;
    for (size_t i = 0; i < ids.size(); ++i) {
      const DeviceTableEntry& e = dtes[i];
      const auto where = [&] { return "DTE of DeviceID " + std::to_string(ids[i]) + ": "; };
      if (ids[i] >> k.device_id_bits) return bad(where() + "DeviceID beyond GITS_TYPER.Devbits");  // bits <= 32, IDs 64-bit
      if (const uint64_t want = expected_next<ITS_DTE::Next>(ids, i); e.next != want)
        return bad(where() + "Next " + std::to_string(e.next) + " does not lead to the next valid DTE (expected " +
                   std::to_string(want) + ")");
      if (unsigned(e.size) + 1 > k.event_id_bits) return bad(where() + "Size beyond GITS_TYPER.ID_bits");
      const uint64_t bytes = itt_bytes(e.size + 1u);
      if (!mem.is_ram(e.itt_addr, bytes)) return fault(where() + "ITT at " + hex(e.itt_addr) + " not in guest RAM");
      if (!claims.claim(e.itt_addr, bytes))
        return bad(where() + "ITT at " + hex(e.itt_addr) + " overlaps an ITS table or another ITT");
      if (!charge(Its::Device::device_cost())) return {Errc::no_memory, "ITS_RESTORE_TABLES: host memory budget exhausted"};
      Its::Device& d = devices[uint32_t(ids[i])];
      d.event_bits = uint8_t(e.size + 1);
      d.itt_addr = e.itt_addr;
      if (Status s = restore_itt(uint32_t(ids[i]), d); !s) return s;
    }
    return {};
  }

  // ITEs of one device: valid ones (pINTID != 0), in EventID order, linked by Next.
  // The valid entries of the ITT being read (kept across devices: allocated once per restore).
  std::vector<uint32_t> itt_events;
  std::vector<InterruptTableEntry> itt_entries;
  Status restore_itt(uint32_t id, Its::Device& d) {
    const uint64_t total = itt_bytes(d.event_bits);
    itt_events.clear();
    itt_entries.clear();
    for (uint64_t off = 0; off < total; off += kBlock) {
      bool ok;
      const std::span<const uint64_t> words = read_words(d.itt_addr + off, std::min(kBlock, total - off), ok);
      if (!ok)
        return fault("ITT of DeviceID " + std::to_string(id) + " unreadable");
      for (size_t i = next_nonzero(words, 0); i < words.size(); i = next_nonzero(words, i + 1)) {
        const InterruptTableEntry e = InterruptTableEntry::decode(le(words[i]));
        if (!e.valid()) continue;
        itt_events.push_back(uint32_t(off / kEsz + i));  // event_bits <= 32
        itt_entries.push_back(e);
      }
    }
    const unsigned lpi_bits = its.gic_.config().lpi_id_bits;
    Its::Ite* chunk = nullptr;  // the chunk of the previous event (ascending: one lookup per chunk)
    uint32_t chunk_index = 0;
    for (size_t i = 0; i < itt_events.size(); ++i) {
      const InterruptTableEntry& e = itt_entries[i];
      const uint32_t event = itt_events[i];
      const auto where = [&] { return "ITE of DeviceID " + std::to_string(id) + " EventID " + std::to_string(event) + ": "; };
      if (const uint64_t want = expected_next<ITS_ITE::Next>(itt_events, i); e.next != want)
        return bad(where() + "Next " + std::to_string(e.next) + " does not lead to the next valid ITE (expected " +
                   std::to_string(want) + ")");
      // The checks MAPTI makes (IHI0069 5.3): an LPI of this GIC, an ICID the collection table covers.
      if (e.pintid < Intid::kLpiBase || (lpi_bits < 32 && (e.pintid >> lpi_bits)))
        return bad(where() + "pINTID " + std::to_string(e.pintid) + " is not an LPI of this GIC");
      if (!icid_covered(e.icid)) return bad(where() + "ICID beyond GITS_TYPER.CIDbits or not covered by the collection table");
      if (!chunk || event / Its::Device::kChunk != chunk_index) {
        chunk_index = event / Its::Device::kChunk;
        auto& slot = d.ites[chunk_index];
        if (!slot) {
          if (!charge(Its::Device::chunk_cost())) return {Errc::no_memory, "ITS_RESTORE_TABLES: host memory budget exhausted"};
          slot.reset(new Its::Ite[Its::Device::kChunk]());
        }
        chunk = slot.get();
      }
      chunk[event % Its::Device::kChunk] = Its::Ite{e.pintid, e.icid, true};
      ++d.nr_ites;
      // Its pending bit is consumed after commit() if its collection is mapped (seed 003).
      if (const int cpu = collection_cpu(e.icid); cpu >= 0) consume[unsigned(cpu)].push_back(e.pintid);
    }
    return {};
  }

  // The LPIs whose pending bits are consumed once the tables are in, per CPU, in DeviceID then
  // EventID order.
  std::vector<std::vector<uint32_t>> consume;
  // ICID -> CPU of the restored collections (-1: not mapped), from `collections`, built by
  // restore_devices() once they are all read: an array lookup per ITE instead of a hash lookup.
  std::vector<int32_t> cpu_of_icid;
  int collection_cpu(uint16_t icid) const { return icid < cpu_of_icid.size() ? cpu_of_icid[icid] : -1; }

  // Replaces the ITS's translations with the restored ones; the LPIs whose pending bits are to be
  // consumed are in `consume`.
  void commit() {
    its.index_drop_locked();  // no reader holds an old ITE chunk when they are freed
    for (auto& [id, d] : its.devices_) its.gic_.budget().release(Its::Device::bytes_charged(d));
    its.devices_.swap(devices);
    its.collections_.swap(collections);
    charged = 0;  // now accounted to devices_
    devices.clear();
    its.invalidate_all_locked();
    its.index_rebuild_locked();
  }
};

namespace {
constexpr const char* kNotInAbi = "this ITS is outside the KVM table ABI revision 0 (GITS_IIDR.Revision 0, 8-byte ITT entries, GITS_TYPER.HCC 0)";
}  // namespace

Status Its::save_tables(SaveReport* report) {
  std::lock_guard l(lock_);
  if (!implements_table_abi())
    return {Errc::no_such_address, std::string("ITS_SAVE_TABLES: ") + kNotInAbi};
  ItsTableAbi abi(*this);
  abi.save();
  if (report) *report = abi.report;
  return {};
}

Status Its::restore_tables() {
  std::vector<std::vector<uint32_t>> consume;
  {
    std::lock_guard l(lock_);
    if (!implements_table_abi())
      return {Errc::no_such_address, std::string("ITS_RESTORE_TABLES: ") + kNotInAbi};
    // arm-vgic-its.rst: tables are restored before GITS_CTLR; an enabled ITS is translating.
    if (enabled_) return {Errc::busy, "ITS_RESTORE_TABLES: the ITS is enabled (restore GITS_CTLR last)"};
    ItsTableAbi abi(*this);
    if (Status s = abi.restore(); !s) return s;
    abi.commit();
    consume = std::move(abi.consume);
  }
  // One CPU-lock hold per CPU for all its LPIs (issue 7: a hold and a selection per LPI was a third
  // of a restore), the pending table read a block at a time; the order within a CPU is kept.
  for (unsigned cpu = 0; cpu < consume.size(); ++cpu)
    if (!consume[cpu].empty()) gic_.consume_lpis_pending_blocks(cpu, consume[cpu]);
  return {};
}

}  // namespace gicv3
