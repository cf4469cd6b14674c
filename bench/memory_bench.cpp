// Item 7: host memory per mapped LPI, counted (counting_allocator.cpp), not estimated. Two guests
// are built the same way except for the number of mapped LPIs (each mapped and made pending once,
// so its LPI state exists too); the difference of the heap bytes they hold, divided by the
// difference of mapped LPIs, is the marginal host cost of one mapped LPI: ITS translation,
// LPI state (pending bit, configuration byte, priority-queue links), containers' overhead.
// Guest RAM (a fixed-size buffer of the same size in both guests) cancels out.
#include <memory>

#include "counting_allocator.hpp"
#include "harness.hpp"
#include "rig.hpp"

namespace gicv3::bench {

namespace {

size_t heap_for(uint32_t devices, uint32_t events) {
  RigOptions o;
  o.devices = devices;
  o.events = events;
  o.event_bits = 10;
  o.lpis_enabled = false;
  o.lpi_id_bits = 17;
  o.ram_bytes = 32ull << 20;
  const size_t before = live_heap_bytes();
  Rig r(o);
  for (uint32_t d = 0; d < devices; ++d)
    for (uint32_t e = 0; e < events; ++e) r.msi(d, e);
  return live_heap_bytes() - before;
}

struct PerLpi {
  double bytes;
  uint32_t lpis;
};

PerLpi per_mapped_lpi() {
  const uint32_t devices = smoke() ? 4 : 64, events = 1024;
  const size_t small = heap_for(devices, 1);
  const size_t big = heap_for(devices, events);
  const uint32_t extra = devices * (events - 1);
  return {double(big - small) / extra, extra};
}

}  // namespace

void register_memory() {
  add("memory/host_bytes_per_mapped_lpi", [](benchmark::State& st) {
    PerLpi p{};
    for (auto _ : st) p = per_mapped_lpi();
    st.counters["bytes_per_lpi"] = p.bytes;
    st.counters["LPIs"] = p.lpis;
  })->Iterations(1)->Unit(benchmark::kMillisecond);
}

void figures_memory(Figures& f) {
  const PerLpi p = per_mapped_lpi();
  f.push_back({"7", "host memory per mapped LPI", p.bytes, "B", 32, false,
               "counted over " + std::to_string(p.lpis) + " LPIs"});
}

}  // namespace gicv3::bench
