#include "gic/gic_core.hpp"

namespace gicv3 {

namespace {
std::vector<uint64_t> mpidrs_of(const Config& cfg) {
  if (!cfg.mpidr.empty()) return cfg.mpidr;
  std::vector<uint64_t> m(cfg.nr_cpus);
  // Default: 16 CPUs per cluster, the most an SGI target list reaches without RSS.
  for (unsigned i = 0; i < cfg.nr_cpus; ++i) m[i] = MPIDR::Aff0::make(i % 16) | MPIDR::Aff1::make(i / 16);
  return m;
}
}  // namespace

GicCore::GicCore(const Config& cfg)
    : cfg_(cfg), topo_(mpidrs_of(cfg)), budget_(cfg.max_host_memory), dist_(cfg_, topo_) {
  cpus_.reserve(cfg.nr_cpus);
  for (unsigned i = 0; i < cfg.nr_cpus; ++i) cpus_.push_back(std::make_unique<CpuContext>(cfg_, i, budget_));
  for (unsigned i = 0; i < cfg_.its.size(); ++i) its_.push_back(std::make_unique<Its>(*this, cfg_.its[i], i));
}

GicCore::~GicCore() = default;

DistTxn::DistTxn(GicCore& g) : g_(g), lock_(g.dist().lock()) {}

DistTxn::~DistTxn() {
  g_.dist().publish(kick);
  lock_.unlock();
  g_.kick(kick);
}

void GicCore::kick(unsigned cpu) {
  CpuContext& c = *cpus_[cpu];
  c.lock.request_update([&] { update_cpu_locked(c); });
}

void GicCore::kick(const CpuSet& set) {
  if (set.empty()) return;
  for (unsigned i = 0; i < nr_cpus(); ++i)
    if (set.contains(i)) kick(i);
}

}  // namespace gicv3

namespace gicv3 {

void GicCore::invalidate_its_translations() {
  for (auto& its : its_) its->invalidate_translations();
}

}  // namespace gicv3
