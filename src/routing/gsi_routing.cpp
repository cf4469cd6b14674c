#include "routing/gsi_routing.hpp"

#include <algorithm>

#include "gic/doorbell.hpp"
#include "gic/gic_core.hpp"

namespace gicv3 {

GsiRouting::GsiRouting(GicCore& gic) : gic_(gic) {
  // KVM/arm64 installs this table at vGIC init and kvmtool relies on it (kvm_vgic_setup_default_irq_routing).
  (void)set(default_routes(Intid::implemented_spis(gic_.config().nr_spis)));
}

std::vector<GsiRoute> GsiRouting::default_routes(unsigned nr_spis) {
  std::vector<GsiRoute> v(nr_spis);
  for (uint32_t i = 0; i < nr_spis; ++i) {
    v[i].gsi = i;
    v[i].type = GsiRoute::Type::irqchip;
    v[i].intid = Intid::kPpiEnd + i;
  }
  return v;
}

GsiRouting::~GsiRouting() { delete table_.load(std::memory_order_relaxed); }

std::pair<const GsiRoute*, const GsiRoute*> GsiRouting::Table::range(uint32_t gsi) const {
  const auto b = std::lower_bound(routes.begin(), routes.end(), gsi, [](const GsiRoute& r, uint32_t g) { return r.gsi < g; });
  const auto e = std::upper_bound(b, routes.end(), gsi, [](uint32_t g, const GsiRoute& r) { return g < r.gsi; });
  return {routes.data() + (b - routes.begin()), routes.data() + (e - routes.begin())};
}

Status GsiRouting::set(std::vector<GsiRoute> routes) {
  if (routes.size() > kMaxRoutes)
    return {Errc::invalid_argument, "vgic_set_gsi_routing: more than " + std::to_string(kMaxRoutes) + " routes"};
  const Config& cfg = gic_.config();
  for (size_t i = 0; i < routes.size(); ++i) {
    const GsiRoute& r = routes[i];
    const std::string w = "vgic_set_gsi_routing: route " + std::to_string(i) + " (gsi " + std::to_string(r.gsi) + "): ";
    if (r.gsi >= kMaxRoutes) return {Errc::invalid_argument, w + "GSI >= " + std::to_string(kMaxRoutes) + " (KVM_MAX_IRQ_ROUTES)"};
    if (r.type == GsiRoute::Type::irqchip) {
      const Intid id{r.intid};
      const bool ok = (id.is_spi() && r.intid < Intid::kPpiEnd + cfg.nr_spis) ||
                      (id.is_espi() && r.intid < Intid::kEspiBase + cfg.nr_espis);
      if (!ok) return {Errc::invalid_argument, w + "pin names no implemented SPI"};
      continue;
    }
    const Doorbell::Kind kind = doorbell_at(cfg, r.address).kind;
    const bool its = kind == Doorbell::its;
    if (kind == Doorbell::none) return {Errc::invalid_argument, w + "MSI address is no doorbell of this GIC"};
    // An MSI to an ITS needs a DeviceID (as KVM requires KVM_MSI_VALID_DEVID with an ITS).
    if (its && !r.devid_valid) return {Errc::invalid_argument, w + "MSI to an ITS without a DeviceID"};
  }
  std::stable_sort(routes.begin(), routes.end(), [](const GsiRoute& a, const GsiRoute& b) { return a.gsi < b.gsi; });
  auto* next = new Table{std::move(routes)};
  std::lock_guard l(writer_);
  const Table* old = table_.exchange(next, std::memory_order_acq_rel);
  grace_.synchronize();  // nobody reads the old table any more
  delete old;
  return {};
}

int GsiRouting::deliver(const GsiRoute& r, bool level) {
  if (r.type == GsiRoute::Type::irqchip) {
    gic_.set_irq_level(0, r.intid, level);
    return 1;
  }
  if (!level) return 0;  // an MSI route fires on the rising level only
  return gic_.signal_msi(r.address, r.data, r.devid_valid ? r.devid : 0) > 0 ? 1 : 0;
}

int GsiRouting::set_level(uint32_t gsi, bool level) {
  int delivered = 0;
  bool any = false;
  for_each(gsi, [&](const GsiRoute& r) {
    any = true;
    delivered += deliver(r, level);
  });
  return any ? delivered : -1;
}

int GsiRouting::pulse(uint32_t gsi) {
  int delivered = 0;
  bool any = false;
  for_each(gsi, [&](const GsiRoute& r) {
    any = true;
    delivered += deliver(r, true);
    (void)deliver(r, false);  // lowers an irqchip line; nothing for an MSI
  });
  return any ? delivered : -1;
}

}  // namespace gicv3
