// One Interrupt Translation Service (IHI0069 chapter 5): its registers, its command queue and the
// translations the guest built with it: DeviceID -> device (ITT) -> EventID -> (LPI, collection)
// -> collection -> redistributor.
//
// Where state lives: translations are kept in host structures (devices_, collections_), checked
// against the guest's tables (GITS_BASER<n>, level-1 entries of indirect tables) for ID coverage;
// they are written into guest RAM only by save/restore. What the guest can observe follows the
// spec.
//
// Locking:
//  - lock_ (a mutex) protects the registers, devices_, collections_, and the command queue.
//    Holding it, vgic never waits for a CPU lock (it only asks CPUs to update), so a CPU lock may
//    be held while taking it (GICR_CTLR.EnableLPIs clear does).
//  - The MSI path takes no lock: a Grace read section around a TranslationCache lookup and an
//    atomic pending-bit set; on a cache miss, around a lookup of the ITE through ite_index_ (the
//    device's own ITE chunks) and collection_cpu_ (issue 7: no cliff when there are more
//    translations than cache entries). Commands are the only writers (lock_ held): everything that
//    removes or changes a translation first writes the ITE / index / collection (ITEs by atomic
//    store, see store_ite), then invalidates the cache and calls grace_.synchronize(), and only
//    then touches pending state or frees a chunk. Only translations that resolve completely take
//    the lock-free way; every other MSI (errors, ICIDs >= kDirectCollections) takes the lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/grace.hpp"
#include "its/its_command_words.hpp"
#include "its/ite_index.hpp"
#include "its/its_tables.hpp"
#include "its/translation_cache.hpp"
#include "mmio/register_table.hpp"
#include "vgic/vgic.hpp"

namespace gicv3 {

class GicCore;

// Why an MSI did not become a pending LPI (for tools and tests; the guest sees nothing).
enum class MsiOutcome { pending, its_disabled, device_table_invalid, collection_table_invalid, device_unmapped,
                        event_out_of_range, event_unmapped, collection_unmapped, lpis_disabled };
const char* to_string(MsiOutcome o);

// The result of one command (IHI0069 5.3): done, ignored (with why), or an architectural error.
struct CommandOutcome {
  enum Kind { done, ignored, error } kind = done;
  uint32_t error_code = 0;
  const char* reason = "";
  static CommandOutcome ok() { return {}; }
  static CommandOutcome ignore(const char* why) { return {ignored, 0, why}; }
  static CommandOutcome fail(uint8_t opcode, uint8_t kind, const char* why) {
    return {error, its_err::code(opcode, kind), why};
  }
};

class Its {
 public:
  // vgic's default GITS_IIDR: Implementer Arm, ProductID 'V', Revision 0 (the KVM table ABI rev. 0).
  static constexpr uint32_t kDefaultIidr = 0x5600043B;

  Its(GicCore& gic, const ItsConfig& cfg, unsigned index);
  ~Its();

  const ItsConfig& config() const { return cfg_; }
  unsigned index() const { return index_; }

  // --- Guest MMIO (its/its_registers.cpp). offset within the 128 KiB (control + translation) region.
  uint64_t mmio_read(uint32_t offset, unsigned size);
  void mmio_write(uint32_t offset, unsigned size, uint64_t value);

  // The VMM's access to a control-frame register (KVM_DEV_ARM_VGIC_GRP_ITS_REGS): 64-bit registers
  // by 64-bit access only. GITS_CREADR and GITS_CWRITER are restorable without running commands.
  mmio::UAccess uaccess(uint32_t offset, uint64_t& value, bool is_write);
  // KVM_DEV_ARM_ITS_CTRL_RESET: back to the reset state, every translation dropped.
  void reset();

  // --- MSIs. Thread-safe; no lock on a translation-cache hit.
  MsiOutcome signal_msi(uint32_t devid, uint32_t eventid);

  // Drops every cached translation, waits for in-flight hits, and runs f with the ITS lock still
  // held, so that no command runs meanwhile (EnableLPIs 1 -> 0: see GicCore::disable_lpis_locked).
  template <class F>
  void quiesced(F&& f) {
    std::lock_guard l(lock_);
    invalidate_all_locked();
    f();
  }

  // Resolves (devid, eventid) the slow way, without side effects (tools, tests, replay).
  struct Translation {
    MsiOutcome outcome;
    uint32_t intid = 0;
    uint32_t icid = 0;
    unsigned cpu = 0;
  };
  Translation translate(uint32_t devid, uint32_t eventid);

  // --- The KVM ITS table ABI, revision 0 (its/its_save_restore.cpp, its/its_abi.hpp; Linux
  // Documentation/virt/kvm/devices/arm-vgic-its.rst). The VMM stops every vCPU first.
  // Whether this ITS implements it: GITS_IIDR.Revision == 0 and 8-byte ITT entries
  // (GITS_TYPER.ITT_entry_size); else both calls answer VGIC_ENXIO.
  bool implements_table_abi() const;
  // What SAVE wrote, and what the guest's tables could no longer represent (skipped, each one
  // also a counted guest error "its-save-skipped").
  struct SaveReport {
    size_t devices = 0, ites = 0, collections = 0, skipped = 0;
  };
  // KVM_DEV_ARM_ITS_SAVE_TABLES: every translation into the guest's device table, ITTs and
  // collection table. Never fails because of the guest (see the file comment).
  Status save_tables(SaveReport* report = nullptr);
  // KVM_DEV_ARM_ITS_RESTORE_TABLES: the translations read back from the guest's tables, replacing
  // this ITS's; ITS disabled only (VGIC_EBUSY). All or nothing: VGIC_EINVAL (malformed) or
  // VGIC_EFAULT (not in guest RAM) leave the ITS, guest RAM and redistributors unchanged.
  Status restore_tables();

  // Counters for tools and tests. MSI cache hits are not counted: a shared counter would put a
  // locked read-modify-write on every MSI (issue 7); misses are (the slow path takes a lock anyway).
  struct Counters {
    std::atomic<uint64_t> commands{0}, command_errors{0}, cache_misses{0};
  };
  const Counters& counters() const { return counters_; }

  // Command-queue internals used by its/its_commands.cpp (lock_ held).
  // 8-byte aligned so that the lock-free MSI path can load one whole (std::atomic_ref).
  struct alignas(8) Ite {
    uint32_t intid = 0;
    uint16_t icid = 0;
    bool valid = false;
  };
  struct Device {
    uint8_t event_bits = 0;  // MAPD Size + 1
    uint64_t itt_addr = 0;
    static constexpr unsigned kChunk = 64;
    std::unordered_map<uint32_t, std::unique_ptr<Ite[]>> ites;  // EventID / kChunk -> chunk
    size_t nr_ites = 0;
    // What the host budget is charged: the objects plus an allowance for the hash-map node, and
    // for a chunk also its share of the lock-free index's tables.
    static constexpr size_t kNodeOverhead = 64;
    static constexpr size_t device_cost() { return sizeof(Device) + sizeof(uint32_t) + kNodeOverhead; }
    static constexpr size_t chunk_cost() {
      return kChunk * sizeof(Ite) + kNodeOverhead + IteIndex<Ite>::kMaxBytesPerChunk;
    }
    static size_t bytes_charged(const Device& d) { return device_cost() + d.ites.size() * chunk_cost(); }
    Ite* find(uint32_t eventid);
  };
  // Writes an ITE that the lock-free MSI path may be reading (lock_ held).
  static void store_ite(Ite& slot, const Ite& v) { std::atomic_ref<Ite>(slot).store(v, std::memory_order_relaxed); }
  static Ite load_ite(Ite& slot) { return std::atomic_ref<Ite>(slot).load(std::memory_order_relaxed); }

 private:
  friend struct ItsCommands;
  friend struct ItsRegisters;
  friend struct ItsTableAbi;
  friend struct SnapshotAccess;  // snapshot/: full save/restore

  // lock_ held. Runs the commands between GITS_CREADR and GITS_CWRITER, up to kWorkPerAccess
  // units of work: a hostile queue (32 K MOVALLs of every pending LPI) cannot hold the lock
  // for minutes. Called on GITS_CWRITER writes, on enabling, and on GITS_CREADR reads, which is
  // how every driver waits for its commands (Linux: its_wait_for_range_completion), so
  // the rest runs as the driver polls, as on a hardware ITS (IHI0069 12.19 GITS_CREADR).
  void process_queue();
  // Commands are waiting and process_queue() would run them without a guest error (GITS_CREADR
  // reads resume only such a queue; stateless, so a restored queue resumes too).
  bool queue_runnable() const;
  // Work units (see kWorkPerAccess) a command reports beyond its own: MOVALL, INVALL.
  void charge_work(uint64_t units) { work_ += units; }
  // One unit is about 0.3 us of a release build: 16 per LPI chunk that MOVALL walks or INVALL
  // reloads, 1 per 16 LPIs MOVALL moves; so an access runs about 5 ms of them. Ordinary commands
  // cost nothing here (the queue length bounds them). A single MOVALL or INVALL is not split: its
  // cost is linear in one redistributor's LPI state (docs/security.md, "Known costs a guest can
  // choose").
  static constexpr uint64_t kWorkPerAccess = 1u << 14;
  uint64_t work_ = 0;
  CommandOutcome execute(const RawCommand& cmd);
  Translation translate_locked(uint32_t devid, uint32_t eventid);
  bool rdbase_to_cpu(uint64_t rdbase, unsigned& cpu) const;
  TableLookup check_id(unsigned baser_index, uint64_t id) const;
  bool collection_target(uint32_t icid, unsigned& cpu) const;
  void report_error(const RawCommand& cmd, const CommandOutcome& o);
  // Removes cached translations of one event / everything, then waits out in-flight hits.
  void invalidate_event(uint32_t devid, uint32_t eventid);
  void invalidate_all_locked();

  // One grace period per command batch (issue 7). Commands that remove a translation do the
  // removal at once (ITE, index, cache) and leave to retire_locked() what must follow a grace
  // period: clearing a DISCARDed LPI's pending bit and freeing unmapped devices' ITE chunks. The
  // queue loop retires at the end of every batch, before GITS_CREADR can be read; commands whose
  // effect must be ordered after those (see its_commands.cpp, "Deferred grace periods") retire
  // first. Bounded: at most kMaxDeferred entries of each kind, then a retire.
  struct Deferred {
    bool grace = false;                                 // a translation was removed since the last grace period
    std::vector<std::pair<uint16_t, uint32_t>> clears;  // (CPU, INTID) of DISCARDed LPIs
    uint64_t clear_filter[4] = {};                      // bit (INTID % 256) of each: MAPTI's quick "no"
    std::vector<Device> devices;                        // unmapped devices (their ITE chunks), still charged
  };
  static constexpr size_t kMaxDeferred = 256;
  // A translation was removed (the cache entry already invalidated): a grace period is owed.
  void defer_grace() { deferred_.grace = true; }
  void defer_clear(unsigned cpu, uint32_t intid);
  bool deferred_clear_of(uint32_t intid) const;
  // Waits the owed grace period (if any), then applies the deferred clears and frees.
  void retire_locked();
  // HostBudget::charge, retiring first if deferred frees hold budget that would make it succeed.
  bool charge_locked(size_t bytes);
  // The lock-free lookup structures (ite_index_, collection_cpu_) against devices_ / collections_:
  // unpublish all (and wait out readers) before devices_ is freed in bulk; rebuild after.
  void index_drop_locked();
  void index_rebuild_locked();
  void set_collection_locked(uint32_t icid, bool valid, unsigned cpu);
  void publish_gate_locked();
  // GITS_BASER<n>.Valid went from 1 to 0 (only while disabled): the table's mappings are gone.
  void forget_table_locked(unsigned baser_index);
  // Resolves a translation without the lock (inside a Grace read section); false: take the lock.
  // Sets `post` to the CPU whose LPI became pending: the caller posts it after the read section.
  bool try_lockfree(uint32_t devid, uint32_t eventid, MsiOutcome& out, int& post);
  // The rest of signal_msi() under lock_ (errors, ICIDs beyond the direct table); `post` as above.
  MsiOutcome signal_msi_locked(uint32_t devid, uint32_t eventid, int& post);

  GicCore& gic_;
  const ItsConfig cfg_;
  const unsigned index_;

  std::mutex lock_;
  // Registers.
  bool enabled_ = false;
  // Whether MSIs are translated, published for the lock-free hit path: `pending` when they are,
  // else why they are discarded. Derived from GITS_CTLR.Enabled and GITS_BASER0/1.Valid by
  // publish_gate_locked(), which runs wherever those can change (the BASERs only while disabled).
  std::atomic<MsiOutcome> gate_pub_{MsiOutcome::its_disabled};
  uint64_t cbaser_ = 0;
  uint64_t cwriter_ = 0;
  uint64_t creadr_ = 0;
  bool stalled_ = false;
  uint64_t baser_[8] = {};
  uint32_t iidr_;
  // The decoded GITS_BASER0/1 of check_id() (lock_ held), for the value it was decoded from.
  struct GeometryMemo {
    bool valid = false;
    uint64_t baser = 0;
    TableGeometry geometry;
  };
  mutable GeometryMemo geometry_[2];

  // Translations.
  std::unordered_map<uint32_t, Device> devices_;
  std::unordered_map<uint32_t, uint16_t> collections_;  // ICID -> CPU index

  TranslationCache cache_;
  Grace grace_;
  IteIndex<Ite> ite_index_{grace_};
  // ICID -> CPU for ICIDs below kDirectCollections (kNoCpu: unmapped), for the lock-free path.
  static constexpr unsigned kDirectCollections = 1024;
  static constexpr uint16_t kNoCpu = 0xFFFF;
  std::unique_ptr<std::atomic<uint16_t>[]> collection_cpu_;
  Deferred deferred_;
  Counters counters_;
};

}  // namespace gicv3
