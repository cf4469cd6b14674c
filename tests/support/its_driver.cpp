#include "support/its_driver.hpp"

#include <gtest/gtest.h>

namespace test {

using namespace gicv3;

namespace {
constexpr uint32_t GITS_CTLR = 0x0, GITS_TYPER = 0x8, GITS_CBASER = 0x80, GITS_CWRITER = 0x88, GITS_CREADR = 0x90;
constexpr uint32_t GITS_BASER = 0x100;
constexpr uint32_t GICR_PROPBASER = 0x70, GICR_PENDBASER = 0x78;
unsigned page_size_code(uint64_t ps) { return ps == 4096 ? 0 : ps == 16384 ? 1 : 2; }
}  // namespace

ItsDriver::ItsDriver(Guest& g, GuestRam& ram, ItsOptions opt) : g_(g), ram_(ram), opt_(opt) {
  pend_.resize(g.cfg().nr_cpus);
  pta_ = g.cfg().its[opt.its].pta != 0;
}

uint64_t ItsDriver::its_base() const { return g_.cfg().its[opt_.its].base; }

uint64_t ItsDriver::gits_read(uint32_t off, unsigned size) {
  uint64_t v = 0;
  EXPECT_EQ(vgic_mmio_read(g_.gic(), its_base() + off, size, &v), 0) << vgic_last_error();
  return v;
}
void ItsDriver::gits_write(uint32_t off, uint64_t v, unsigned size) {
  EXPECT_EQ(vgic_mmio_write(g_.gic(), its_base() + off, size, v), 0) << vgic_last_error();
}

uint64_t ItsDriver::alloc_table(uint64_t baser_ro, bool indirect, uint64_t& baser) {
  const uint64_t bytes = opt_.table_pages * opt_.page_size;
  const uint64_t table = ram_.alloc(bytes, opt_.page_size);
  const unsigned esz = unsigned((baser_ro >> 48) & 0x1f) + 1;
  (void)esz;  // level-2 pages are allocated on demand (ensure_l2), as Linux does
  uint64_t pa_field = table;
  if (opt_.page_size == 65536) pa_field = (table & 0x0000FFFFFFFF0000ull) | ((table >> 48) & 0xF) << 12;
  baser = baser_ro | 1ull << 63 | uint64_t(indirect) << 62 | pa_field | uint64_t(page_size_code(opt_.page_size)) << 8 |
          (opt_.table_pages - 1);
  return table;
}

void ItsDriver::init() {
  const uint64_t typer = gits_read(GITS_TYPER);
  EXPECT_EQ(typer & 1, 1u) << "GITS_TYPER.Physical";
  for (unsigned n = 0; n < 8; ++n) {
    const uint64_t reset = gits_read(GITS_BASER + 8 * n);
    const uint64_t type = (reset >> 56) & 7;
    if (type == 0) continue;
    uint64_t baser = 0;
    const uint64_t ro = reset & (0x7ull << 56 | 0x1full << 48);
    if (type == 1) dev_table_ = alloc_table(ro, opt_.indirect_devices, baser);
    if (type == 4) coll_table_ = alloc_table(ro, opt_.indirect_collections, baser);
    gits_write(GITS_BASER + 8 * n, baser);
    EXPECT_EQ(gits_read(GITS_BASER + 8 * n), baser) << "GITS_BASER" << n << " reads back as written";
  }
  queue_ = ram_.alloc(opt_.queue_pages * 4096, 65536);
  gits_write(GITS_CBASER, 1ull << 63 | queue_ | (opt_.queue_pages - 1));
  gits_write(GITS_CWRITER, 0);
  cwriter_ = 0;
  if (opt_.enable) gits_write(GITS_CTLR, 1, 4);
}

void ItsDriver::enable_lpis(unsigned cpu) {
  const unsigned bits = g_.cfg().lpi_id_bits;
  if (!prop_) {
    const uint64_t size = (uint64_t(1) << bits) - 8192;
    prop_ = ram_.alloc(size, 65536);
    std::memset(ram_.host(prop_), 0xa2, size);
  }
  pend_[cpu] = ram_.alloc((uint64_t(1) << bits) / 8, 65536);
  g_.gicr_write(cpu, GICR_PROPBASER, prop_ | (bits - 1), 8);
  g_.gicr_write(cpu, GICR_PENDBASER, pend_[cpu], 8);
  g_.gicr_write(cpu, gicr::CTLR, 1);
}

void ItsDriver::enable_lpis_all() {
  for (unsigned c = 0; c < g_.cfg().nr_cpus; ++c) enable_lpis(c);
}

void ItsDriver::send(const RawCommand& cmd) {
  const uint64_t qsize = opt_.queue_pages * 4096;
  for (unsigned i = 0; i < 4; ++i) ram_.write64(queue_ + cwriter_ + 8 * i, cmd[i]);
  cwriter_ = (cwriter_ + 32) % qsize;
  gits_write(GITS_CWRITER, cwriter_);
}

uint64_t ItsDriver::rdbase(unsigned cpu) const {
  return pta_ ? (g_.cfg().gicr_base + uint64_t(cpu) * 0x20000) >> 16 : cpu;
}

uint64_t ItsDriver::itt(uint32_t dev) const {
  for (auto& [d, a] : itts_)
    if (d == dev) return a;
  return 0;
}

void ItsDriver::ensure_l2(uint64_t table, bool indirect, uint64_t id) {
  if (!indirect) return;
  const uint64_t l1 = table + (id / (opt_.page_size / 8)) * 8;
  if (l1 >= table + opt_.table_pages * opt_.page_size) return;  // beyond the table: the ITS must refuse it
  if (ram_.read64(l1) >> 63) return;
  ram_.write64(l1, ram_.alloc(opt_.page_size, opt_.page_size) | 1ull << 63);
}

void ItsDriver::mapd(uint32_t dev, unsigned event_bits, bool valid) {
  ensure_l2(dev_table_, opt_.indirect_devices, dev);
  uint64_t itt_addr = 0;
  if (valid) {
    const unsigned esz = unsigned((gits_read(GITS_TYPER) >> 4) & 0xf) + 1;
    itt_addr = ram_.alloc(std::max<uint64_t>((uint64_t(1) << event_bits) * esz, 256), 256);
    itts_.emplace_back(dev, itt_addr);
  }
  send(MapdCommand{DeviceId(dev), uint8_t(event_bits - 1), itt_addr, valid}.encode());
}
void ItsDriver::mapc(uint32_t icid, unsigned cpu, bool valid) {
  ensure_l2(coll_table_, opt_.indirect_collections, icid);
  send(MapcCommand{CollectionId(icid), rdbase(cpu), valid}.encode());
}
void ItsDriver::mapti(uint32_t dev, uint32_t event, uint32_t intid, uint32_t icid) {
  send(MaptiCommand{its_cmd::MAPTI, DeviceId(dev), EventId(event), intid, CollectionId(icid)}.encode());
}
void ItsDriver::mapi(uint32_t dev, uint32_t event, uint32_t icid) {
  send(MaptiCommand{its_cmd::MAPI, DeviceId(dev), EventId(event), event, CollectionId(icid)}.encode());
}
void ItsDriver::movi(uint32_t dev, uint32_t event, uint32_t icid) {
  send(MoviCommand{DeviceId(dev), EventId(event), CollectionId(icid)}.encode());
}
void ItsDriver::movall(unsigned from, unsigned to) { send(MovallCommand{rdbase(from), rdbase(to)}.encode()); }
void ItsDriver::discard(uint32_t dev, uint32_t event) {
  send(EventCommand{its_cmd::DISCARD, DeviceId(dev), EventId(event)}.encode());
}
void ItsDriver::inv(uint32_t dev, uint32_t event) { send(EventCommand{its_cmd::INV, DeviceId(dev), EventId(event)}.encode()); }
void ItsDriver::invall(uint32_t icid) { send(InvallCommand{CollectionId(icid)}.encode()); }
void ItsDriver::int_(uint32_t dev, uint32_t event) { send(EventCommand{its_cmd::INT, DeviceId(dev), EventId(event)}.encode()); }
void ItsDriver::clear(uint32_t dev, uint32_t event) {
  send(EventCommand{its_cmd::CLEAR, DeviceId(dev), EventId(event)}.encode());
}
void ItsDriver::sync(unsigned cpu) { send(SyncCommand{rdbase(cpu)}.encode()); }

void ItsDriver::lpi_config(uint32_t intid, uint8_t priority, bool enabled) {
  ram_.write8(prop_ + intid - 8192, uint8_t((priority & 0xfc) | 0x2 | (enabled ? 1 : 0)));
}

int ItsDriver::msi(uint32_t dev, uint32_t event) {
  return vgic_signal_msi(g_.gic(), its_base() + 0x10040, event, dev);
}

uint64_t ItsDriver::creadr() { return gits_read(GITS_CREADR); }

void ItsDriver::enqueue(const RawCommand& cmd) {
  for (unsigned i = 0; i < 4; ++i) ram_.write64(queue_ + cwriter_ + 8 * i, cmd[i]);
  cwriter_ = (cwriter_ + 32) % queue_bytes();
}
void ItsDriver::flush() { gits_write(GITS_CWRITER, cwriter_); }
void ItsDriver::retry() { gits_write(GITS_CWRITER, cwriter_ | 1); }

ItsHarness::ItsHarness(const vgic_config& cfg, ItsOptions opt, uint64_t ram_bytes)
    : g(cfg), ram(g.gic(), 0x40000000, ram_bytes), its(g, ram, opt) {
  vgic_set_system_error_notifier(g.gic(), &ItsHarness::on_sei, this);
  g.bring_up_all();
  its.init();
  its.enable_lpis_all();
}

ItsHarness::~ItsHarness() { vgic_set_system_error_notifier(g.gic(), nullptr, nullptr); }

void ItsHarness::on_sei(void* self, unsigned index, uint32_t code) {
  auto* h = static_cast<ItsHarness*>(self);
  std::lock_guard l(h->sei_lock_);
  h->sei_.emplace_back(index, code);
}

std::vector<std::pair<unsigned, uint32_t>> ItsHarness::seis() {
  std::lock_guard l(sei_lock_);
  return sei_;
}

std::vector<uint32_t> ItsHarness::sei_codes() {
  std::vector<uint32_t> codes;
  for (auto& e : seis()) codes.push_back(e.second);
  return codes;
}

}  // namespace test
