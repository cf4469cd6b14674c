// The command queue (IHI0069 5.3, 12.19: GITS_CBASER, GITS_CWRITER, GITS_CREADR). Commands run
// synchronously inside the GITS_CWRITER write (or the GITS_CTLR write that enables the ITS), up to
// a work limit (its.hpp, kWorkPerAccess); the guest's GITS_CREADR polls run what is left. This
// loop is the only code that moves GITS_CREADR.
#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>

#include "gic/gic_core.hpp"
#include "its/its.hpp"
#include "its/its_commands.hpp"

namespace gicv3 {

namespace {
uint64_t queue_bytes(uint64_t cbaser) { return (GITS_CBASER::Size::get(cbaser) + 1) * 4096; }
uint64_t queue_base(uint64_t cbaser) { return GITS_CBASER::Physical_Address::get(cbaser) << 12; }
}  // namespace

CommandOutcome Its::execute(const RawCommand& cmd) {
  const uint8_t op = uint8_t(its_cmd::Opcode::get(cmd[0]));
  const ItsCommandDesc* d = find_its_command(op);
  if (!d) return CommandOutcome::fail(op, its_err::kUnknownCommand, "not a physical GICv3 ITS command");
  return d->handler(*this, cmd);
}

void Its::report_error(const RawCommand& cmd, const CommandOutcome& o) {
  counters_.command_errors.fetch_add(1, std::memory_order_relaxed);
  const uint8_t op = uint8_t(its_cmd::Opcode::get(cmd[0]));
  gic_.log().guest_error("its-command", "gits", TraceLog::kNoCpu, creadr_, cmd[0], [&] {
    char detail[224];
    snprintf(detail, sizeof detail, "ITS%u %s: error 0x%06" PRIx32 " (%s); %s", index_, its_command_name(op),
             o.error_code, o.reason, cfg_.stall_on_error ? "queue stalled" : "command skipped");
    return std::string(detail);
  });
  // SEIS: command errors are reported as System Errors (IHI0069 12.19, GITS_TYPER.SEIS).
  if (cfg_.seis) gic_.system_error(index_, o.error_code);
}

bool Its::queue_runnable() const {
  if (!enabled_ || !GITS_CBASER::Valid::get(cbaser_) || stalled_ || creadr_ == cwriter_) return false;
  const uint64_t size = queue_bytes(cbaser_);
  return cwriter_ < size && creadr_ < size;
}

void Its::process_queue() {
  if (!enabled_ || !GITS_CBASER::Valid::get(cbaser_) || stalled_) return;
  const uint64_t size = queue_bytes(cbaser_);
  const uint64_t base = queue_base(cbaser_);
  if (cwriter_ >= size || creadr_ >= size) {
    // An offset beyond the queue is UNPREDICTABLE (IHI0069 12.19, GITS_CWRITER and GITS_CREADR);
    // vgic processes nothing.
    gic_.log().guest_error("its-queue", "gits", TraceLog::kNoCpu, cwriter_, size, "GITS_CWRITER beyond the command queue; nothing processed");
    return;
  }
  // Commands are read a block at a time (issue 7: one bounds-checked guest-memory access, not one
  // per command). Reading ahead is what a hardware ITS does too: the commands between CREADR and
  // CWRITER belong to the ITS, and a guest that rewrites them meanwhile gets either version.
  static constexpr uint64_t kBlock = 64;  // commands per read (2 KiB on the stack)
  RawCommand block[kBlock];
  uint64_t in_block = 0, next = 0;  // commands held in `block`, and the next one to run
  bool block_ok = false;            // false: the block read failed; read command by command
  // At most one lap (the queue holds size / 32 commands) and kWorkPerAccess units of work.
  work_ = 0;
  for (uint64_t budget = size / 32; creadr_ != cwriter_ && budget && work_ < kWorkPerAccess; --budget) {
    if (next == in_block) {
      // Up to the queue's end (it wraps) or CWRITER, whichever comes first.
      const uint64_t end = cwriter_ > creadr_ ? cwriter_ : size;
      in_block = std::min<uint64_t>(kBlock, (end - creadr_) / 32);
      next = 0;
      block_ok = gic_.memory().read(base + creadr_, block, in_block * sizeof(RawCommand));
    }
    RawCommand cmd{};
    if (block_ok) cmd = block[next];
    ++next;
    CommandOutcome o;
    // A failed block read is retried per command, so that exactly the commands that are not
    // guest RAM fail, as if read one at a time.
    if (!block_ok && !gic_.memory().read(base + creadr_, cmd.data(), sizeof cmd)) {
      // The command itself cannot be read: no field of it is trusted or used.
      cmd = {};
      o = CommandOutcome::fail(0, its_err::kTableUnreadable, "command queue memory is not guest RAM");
    } else {
      for (uint64_t& w : cmd) w = std::endian::native == std::endian::little ? w : __builtin_bswap64(w);
      o = execute(cmd);
    }
    counters_.commands.fetch_add(1, std::memory_order_relaxed);
    gic_.observe_command(index_, creadr_ / 32, cmd, o);
    if (o.kind == CommandOutcome::ignored) {
      // Not an architected error (no SEI, no stall), but still the guest's doing: counted.
      gic_.log().guest_error("its-command-ignored", "gits", TraceLog::kNoCpu, creadr_, cmd[0], [&] {
        return std::string("ITS") + std::to_string(index_) + " " + its_command_name(uint8_t(its_cmd::Opcode::get(cmd[0]))) +
               ": ignored (" + o.reason + ")";
      });
    }
    if (o.kind == CommandOutcome::error) {
      report_error(cmd, o);
      if (cfg_.stall_on_error) {
        stalled_ = true;  // GITS_CREADR.Stalled; CREADR stays on the failing command
        break;
      }
    }
    creadr_ = (creadr_ + 32) % size;
  }
  // The batch's grace period, then the clears and frees it deferred (its/its_commands.cpp): done
  // before the CWRITER write returns and before anyone can read GITS_CREADR (same lock).
  retire_locked();
}

}  // namespace gicv3
