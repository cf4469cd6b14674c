#include "rig.hpp"

#include <bit>

namespace gicv3::bench {

Rig::Rig(const RigOptions& o) : opt(o) {
  vgic_config cfg = test::Guest::config(o.cpus);
  cfg.lpi_id_bits = o.lpi_id_bits;
  cfg.its[0].cache_entries = o.cache_entries;
  cfg.max_host_memory = 4ull << 30;
  g = std::make_unique<test::Guest>(cfg);
  ram = std::make_unique<test::GuestRam>(g->gic(), 0x40000000, o.ram_bytes);
  g->bring_up_all();
  test::ItsOptions io;
  io.queue_pages = o.queue_pages;
  io.table_pages = 4;
  its = std::make_unique<test::ItsDriver>(*g, *ram, io);
  its->init();
  its->enable_lpis_all();
  const unsigned bits = o.event_bits ? o.event_bits : std::max(1u, unsigned(std::bit_width(o.events - 1)));
  for (unsigned c = 0; c < o.cpus; ++c) its->mapc(c, c);
  for (uint32_t d = 0; d < o.devices; ++d) {
    its->mapd(d, bits);
    for (uint32_t e = 0; e < o.events; ++e) {
      its->lpi_config(lpi(d, e), o.priority, o.lpis_enabled);
      command(MaptiCommand{its_cmd::MAPTI, DeviceId(d), EventId(e), lpi(d, e), CollectionId(cpu_of(d, e))}.encode());
    }
  }
  for (unsigned c = 0; c < o.cpus; ++c) command(InvallCommand{CollectionId(c)}.encode());
  flush();
}

Rig::~Rig() = default;

void Rig::command(const RawCommand& cmd) {
  its->enqueue(cmd);
  if (++queued_ >= batch_capacity()) flush();
}

void Rig::flush() {
  if (!queued_) return;
  its->flush();
  queued_ = 0;
}

}  // namespace gicv3::bench
