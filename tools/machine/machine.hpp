// The reference machine (issue 6): QEMU-virt-shaped board of Unicorn vCPUs around one vgic.
// All vCPUs run round-robin on the calling thread, a fixed number of instructions each, so runs
// are deterministic and guest atomics are atomic. See docs/reference-machine.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "pl011.hpp"
#include "vcpu.hpp"
#include "vgic/vgic.hpp"

namespace vgic_machine {

struct MachineConfig {
  unsigned nr_cpus = 1;
  uint64_t ram_size = 128ull << 20;
  uint64_t quantum = 1000;                       // instructions per vCPU turn
  uint64_t max_instructions = 4'000'000'000ull;  // watchdog: total guest instructions
  double max_seconds = 120;                      // watchdog: host wall-clock
  bool direct_lpi = false;                       // GICR_TYPER.DirectLPI (QEMU has none)
  bool trace_gic = false, trace_psci = false, trace_irq = false;
  std::FILE* out = stdout;  // guest UART output
  std::FILE* log = stderr;  // traces and the final message
};

// Exit statuses of a run (documented in docs/reference-machine.md).
enum class ExitCode : int {
  system_off = 0,   // PSCI SYSTEM_OFF (or SYSTEM_RESET)
  bad_input = 1,    // unusable image or options
  guest_fault = 2,  // an exception the guest cannot take, or an access outside every device
  watchdog = 3,     // instruction or time limit reached
  deadlock = 4,     // every vCPU off, or all waiting with nothing that could wake them
};

struct RunResult {
  int exit_code = 0;
  std::string message;
  uint64_t instructions = 0;
  bool migrate = false;  // stopped at the migration point (not an exit)
};

class Machine {
 public:
  // Empty error on success.
  // `adopt`: use this GIC instead of creating one (see save(): the CPU/RAM-only migration).
  static std::unique_ptr<Machine> create(const MachineConfig& cfg, std::string& error,
                                         std::unique_ptr<gicv3::Gic> adopt = nullptr);
  ~Machine();

  // Loads an image (ELF or flat), builds the DTB at RAM base and powers CPU 0 on at the entry
  // with x0 = DTB address. Empty string on success.
  std::string load(const std::vector<uint8_t>& image);

  // Runs until the guest ends the run, a fault, the watchdog, or (stop_at != 0) the point where
  // `stop_at` guest instructions have run in total (result.migrate).
  RunResult run(uint64_t stop_at = 0);

  // The whole machine: counter, scheduler position, RAM, every vCPU (registers, power, timers)
  // and the GIC (Gic::save). with_gic = false leaves the GIC out: the caller moves the Gic object
  // itself to the new machine (release_gic + create(adopt)), which checks the CPU and RAM part
  // of a migration on its own (--migrate-keep-gic).
  std::string save(std::vector<uint8_t>& out, bool with_gic = true);
  std::string restore(const std::vector<uint8_t>& in, bool with_gic = true);
  std::unique_ptr<gicv3::Gic> release_gic();
  // Whether this vgic has the GIC snapshot API (Gic::save / Gic::restore).
  static bool gic_snapshot_supported();

  uint64_t instructions() const { return icount_; }
  gicv3::Gic& gic() { return *gic_; }

  // --- called from the Unicorn hooks (machine.cpp); not for users.
  Vcpu* current() { return cur_; }
  uint64_t counter() const { return icount_; }
  void on_code(uint64_t address);
  void on_block();
  void on_intr(uint32_t intno);
  void on_unmapped(uc_mem_type type, uint64_t address, int size);
  bool on_sysreg(uc_arm64_reg reg, const uc_arm64_cp_reg& r, bool write);
  void on_gic_access(bool write, uint64_t address, int size, int64_t value);
  Pl011& uart() { return uart_; }

 private:
  explicit Machine(const MachineConfig& cfg);
  std::string setup();
  std::string map_into(Vcpu& v);
  void sync_timer(Vcpu& v);
  // The vector offset of the interrupt exception to take now (0x80 IRQ, 0x100 FIQ), or 0.
  unsigned irq_deliverable(Vcpu& v);
  // After a slice: handle what stopped it. Returns false when the run ends (result_ filled).
  bool handle_stop(Vcpu& v, uc_err err);
  bool handle_undefined(Vcpu& v);
  bool deliver_sync(Vcpu& v, uint64_t elr, uint64_t esr, const char* what);
  bool psci(Vcpu& v);
  void fail(ExitCode code, std::string message);
  void log_irq(Vcpu& v, const char* what);

  MachineConfig cfg_;
  std::unique_ptr<gicv3::Gic> gic_;
  std::vector<std::unique_ptr<Vcpu>> cpus_;
  uint8_t* ram_ = nullptr;
  Pl011 uart_;
  Vcpu* cur_ = nullptr;
  uint64_t icount_ = 0;
  size_t rr_ = 0;            // the vCPU whose turn is next (round-robin position)
  uint64_t turn_left_ = 0;   // instructions left in its turn (0: its turn has not started)
  bool progressed_ = false;  // some vCPU ran in the current round
  bool ended_ = false;
  bool used_ = false;  // loaded, restored or run: RAM no longer all zeros
  RunResult result_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace vgic_machine
