// Item 5: ITS command throughput. The guest writes a batch of commands into the queue and
// publishes it with one GITS_CWRITER write (as Linux does when it has several queued); the figure
// is commands per second including the guest's queue writes.
//  - mix:   per round on one device: 64 x MAPTI, 64 x INV, SYNC, then MAPD V=0 / MAPD V=1 to start
//           the next round on an empty device (131 commands).
//  - churn: MAPD V=1, MAPTI, DISCARD, MAPD V=0. The batch defers grace periods to its end, but each
//           round's MAPTI maps the LPI the previous round's DISCARD cleared, which retires that
//           DISCARD first: one grace period per round (docs/architecture.md, "Deferred grace periods").
#include <memory>
#include <vector>

#include "harness.hpp"
#include "rig.hpp"

namespace gicv3::bench {

namespace {

class CommandCase {
 public:
  explicit CommandCase(bool churn) {
    RigOptions o;
    o.events = 1;
    o.event_bits = 10;
    o.lpi_id_bits = 16;
    o.ram_bytes = 16ull << 20;
    rig_ = std::make_unique<Rig>(o);
    const uint64_t itt = rig_->its->itt(0);
    const RawCommand unmap = MapdCommand{DeviceId(0), 9, 0, false}.encode();
    const RawCommand map = MapdCommand{DeviceId(0), 9, itt, true}.encode();
    seq_.push_back(unmap);  // start from an empty device
    seq_.push_back(map);
    if (churn) {
      seq_.push_back(MaptiCommand{its_cmd::MAPTI, DeviceId(0), EventId(0), 8192, CollectionId(0)}.encode());
      seq_.push_back(EventCommand{its_cmd::DISCARD, DeviceId(0), EventId(0)}.encode());
    } else {
      for (uint32_t e = 0; e < 64; ++e)
        seq_.push_back(MaptiCommand{its_cmd::MAPTI, DeviceId(0), EventId(e), 8192 + e, CollectionId(0)}.encode());
      for (uint32_t e = 0; e < 64; ++e) seq_.push_back(EventCommand{its_cmd::INV, DeviceId(0), EventId(e)}.encode());
      seq_.push_back(SyncCommand{0}.encode());
    }
  }
  void run(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      rig_->command(seq_[pos_]);
      if (++pos_ == seq_.size()) pos_ = 0;
    }
    rig_->flush();
  }
  // Guest errors counted so far: a valid sequence makes none.
  uint64_t errors() { return rig_->g->guest_errors(); }

 private:
  std::unique_ptr<Rig> rig_;
  std::vector<RawCommand> seq_;
  size_t pos_ = 0;
};

}  // namespace

void register_commands() {
  add_profile("commands_mix", [] {
    auto c = std::make_shared<CommandCase>(false);
    return Runner([c](uint64_t n) { c->run(n); });
  });
  add_profile("commands_churn", [] {
    auto c = std::make_shared<CommandCase>(true);
    return Runner([c](uint64_t n) { c->run(n); });
  });
  add("commands/mapti_inv_sync", [](benchmark::State& st) {
    CommandCase c(false);
    run_batched(st, c, 4096);
    if (c.errors()) st.SkipWithError("a command failed");
  });
  add("commands/mapd_discard_churn", [](benchmark::State& st) {
    CommandCase c(true);
    run_batched(st, c, 4096);
    if (c.errors()) st.SkipWithError("a command failed");
  });
}

void figures_commands(Figures& f) {
  CommandCase mix(false), churn(true);
  const Timing tm = measure([&](uint64_t n) { mix.run(n); });
  const Timing tc = measure([&](uint64_t n) { churn.run(n); });
  f.push_back({"5", "ITS commands, MAPTI/INV/SYNC mix", 1e3 / tm.ns_per_op, "M/s", 20, true,
               mix.errors() ? "COMMAND ERRORS" : ""});
  f.push_back({"5", "ITS commands, MAPD/DISCARD churn", 1e3 / tc.ns_per_op, "M/s", 20, true,
               churn.errors() ? "COMMAND ERRORS" : ""});
}

}  // namespace gicv3::bench
