#include "replay.hpp"

#include <sys/mman.h>
#include <zlib.h>

#include <cinttypes>
#include <deque>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/gic_impl.hpp"
#include "gicd/gicd_regs.hpp"
#include "gicr/gicr_regs.hpp"
#include "its/its_commands.hpp"
#include "its/its_regs.hpp"
#include "vgic/vgic.hpp"

namespace gicv3::replay {

namespace {

using nlohmann::json;

struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A lower-case hex digit's value, or -1 (the trace format's hex is lower-case, FORMAT.md 2).
int hex_digit(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

uint64_t hex(const json& j, const char* field) {
  const json& v = j.at(field);
  if (!v.is_string()) throw BadInput(std::string("field '") + field + "' is not a hex string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 3 || s[0] != '0' || s[1] != 'x' || s.size() > 18) throw BadInput(std::string("field '") + field + "' is not 0x-hex: " + s);
  uint64_t r = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    const int d = hex_digit(s[i]);
    if (d < 0) throw BadInput(std::string("field '") + field + "' is not 0x-hex: " + s);
    r = r << 4 | uint64_t(d);
  }
  return r;
}
uint64_t num(const json& j, const char* field) {
  const json& v = j.at(field);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (!v.is_number_integer()) throw BadInput(std::string("field '") + field + "' is not an integer");
  const int64_t x = v.get<int64_t>();
  if (x < 0) throw BadInput(std::string("field '") + field + "' is negative");
  return uint64_t(x);
}
// A number that must fit the field it fills (a DeviceID, a CPU number ...): never truncated.
uint64_t num_max(const json& j, const char* field, uint64_t max) {
  const uint64_t v = num(j, field);
  if (v > max) throw BadInput(std::string("field '") + field + "' is " + std::to_string(v) + ", more than " + std::to_string(max));
  return v;
}
uint32_t u32(const json& j, const char* field) { return uint32_t(num_max(j, field, UINT32_MAX)); }
std::string str(const json& j, const char* field) {
  const json& v = j.at(field);
  if (!v.is_string()) throw BadInput(std::string("field '") + field + "' is not a string");
  return v.get<std::string>();
}
std::string h(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}
uint64_t num_hex_max(const json& j, const char* field, uint64_t max) {
  const uint64_t v = hex(j, field);
  if (v > max) throw BadInput(std::string("field '") + field + "' is " + h(v) + ", more than " + h(max));
  return v;
}

// Guest RAM for the replay: a large lazily-backed anonymous mapping (pages cost nothing until used).
struct Ram {
  static constexpr uint64_t kBase = 0x40000000, kSize = 4ull << 30;
  uint8_t* p = nullptr;
  Ram() {
    void* m = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) throw BadInput("cannot reserve guest RAM for the replay");
    p = static_cast<uint8_t*>(m);
  }
  ~Ram() { munmap(p, kSize); }
  uint8_t* at(uint64_t pa, uint64_t len) {
    if (pa < kBase || pa - kBase > kSize || len > kSize - (pa - kBase)) throw BadInput("memory record outside guest RAM: " + h(pa));
    return p + (pa - kBase);
  }
};

const std::map<std::string, uint32_t>& sysregs() {
  static const std::map<std::string, uint32_t> m = {
      {"ICC_PMR", VGIC_SYSREG(3, 0, 4, 6, 0)},     {"ICC_BPR0", VGIC_SYSREG(3, 0, 12, 8, 3)},
      {"ICC_AP0R0", VGIC_SYSREG(3, 0, 12, 8, 4)},  {"ICC_AP0R1", VGIC_SYSREG(3, 0, 12, 8, 5)},
      {"ICC_AP0R2", VGIC_SYSREG(3, 0, 12, 8, 6)},  {"ICC_AP0R3", VGIC_SYSREG(3, 0, 12, 8, 7)},
      {"ICC_AP1R0", VGIC_SYSREG(3, 0, 12, 9, 0)},  {"ICC_AP1R1", VGIC_SYSREG(3, 0, 12, 9, 1)},
      {"ICC_AP1R2", VGIC_SYSREG(3, 0, 12, 9, 2)},  {"ICC_AP1R3", VGIC_SYSREG(3, 0, 12, 9, 3)},
      {"ICC_DIR", VGIC_SYSREG(3, 0, 12, 11, 1)},   {"ICC_SGI1R", VGIC_SYSREG(3, 0, 12, 11, 5)},
      {"ICC_ASGI1R", VGIC_SYSREG(3, 0, 12, 11, 6)}, {"ICC_SGI0R", VGIC_SYSREG(3, 0, 12, 11, 7)},
      {"ICC_EOIR0", VGIC_SYSREG(3, 0, 12, 8, 1)},  {"ICC_EOIR1", VGIC_SYSREG(3, 0, 12, 12, 1)},
      {"ICC_BPR1", VGIC_SYSREG(3, 0, 12, 12, 3)},  {"ICC_CTLR", VGIC_SYSREG(3, 0, 12, 12, 4)},
      {"ICC_SRE", VGIC_SYSREG(3, 0, 12, 12, 5)},   {"ICC_IGRPEN0", VGIC_SYSREG(3, 0, 12, 12, 6)},
      {"ICC_IGRPEN1", VGIC_SYSREG(3, 0, 12, 12, 7)},
  };
  return m;
}

Config config_from(const json& r) {
  Config c;
  c.nr_cpus = u32(r, "ncpus");
  const json& cpus = r.at("cpus");
  if (!cpus.is_array() || cpus.size() != c.nr_cpus) throw BadInput("config: cpus[] does not have ncpus entries");
  for (const json& cpu : cpus) c.mpidr.push_back(hex(cpu, "mpidr"));
  const json& d = r.at("gicd");
  c.nr_spis = u32(d, "nr_spis");
  c.lpi_id_bits = num(d, "LPIS") ? u32(d, "IDbits") : 0;
  c.mbis = num(d, "MBIS");
  c.no1n = num(d, "No1N");
  c.rss = num(d, "RSS");
  c.gicd_iidr = uint32_t(num_hex_max(d, "GICD_IIDR", UINT32_MAX));
  const json& rd = r.at("gicr");
  c.direct_lpi = num(rd, "DirectLPI");
  c.common_lpi_aff = u32(rd, "CommonLPIAff");
  c.its.clear();
  if (r.contains("its")) {
    const json& i = r.at("its");
    ItsConfig k;
    k.device_id_bits = u32(i, "Devbits");
    k.event_id_bits = u32(i, "IDbits");
    k.collection_id_bits = u32(i, "CIDbits");
    k.itt_entry_size = u32(i, "ITT_entry_size");
    k.pta = num(i, "PTA");
    k.seis = num(i, "SEIS");
    k.iidr = uint32_t(num_hex_max(i, "GITS_IIDR", UINT32_MAX));
    c.its.push_back(k);
  }
  return c;
}

struct Replayer {
  Report& rep;
  const Options& opt;
  std::unique_ptr<Gic> gic;
  std::unique_ptr<Ram> ram;
  struct Executed {
    uint64_t slot;
    RawCommand cmd;
  };
  std::deque<Executed> executed;
  uint64_t n = 0, line = 0;
  // Guest memory the memw/memfill records have written: bounded, so that a small trace cannot make
  // the replay touch gigabytes of its RAM model (real traces write a few MiB at most).
  static constexpr uint64_t kMaxMemoryWritten = 512ull << 20;
  uint64_t memory_written = 0;
  std::string kind;

  void mismatch(std::string detail) {
    ++rep.mismatch_count;
    if (rep.mismatches.size() < opt.max_mismatches) rep.mismatches.push_back({n, line, kind, std::move(detail)});
  }

  void configure(const json& r) {
    Config c = config_from(r);
    Status st;
    gic = Gic::create(c, &st);
    if (!gic) throw BadInput("config: " + st.message());
    ram = std::make_unique<Ram>();
    if (Status s = gic->map_ram(Ram::kBase, Ram::kSize, ram->p); !s.ok()) throw BadInput(s.message());
    gic->impl().core.set_command_observer(
        [this](unsigned, uint64_t slot, const RawCommand& cmd, const CommandOutcome&) { executed.push_back({slot, cmd}); });
    // The recorded redistributors must be the ones vgic models.
    for (const json& cpu : r.at("cpus")) {
      uint64_t typer = 0;
      const uint64_t idx = num(cpu, "cpu");
      if (idx >= c.nr_cpus) throw BadInput("config: cpu number out of range");
      (void)gic->mmio_read(c.gicr_base + idx * gicr_off::kStride + gicr_off::TYPER, 8, typer);
      if (typer != hex(cpu, "gicr_typer")) mismatch("GICR_TYPER of CPU " + std::to_string(idx) + ": trace " + h(hex(cpu, "gicr_typer")) + ", vgic " + h(typer));
    }
  }

  // The frame's address plus off (FORMAT.md 4.1), which must stay inside that frame: GICD 64 KiB,
  // one redistributor's RD_base + SGI_base 128 KiB, the ITS control frame 64 KiB.
  uint64_t address(const json& r) {
    const Config& c = gic->config();
    const std::string dev = str(r, "dev");
    const uint64_t off = hex(r, "off");
    const auto in_frame = [&](uint64_t base, uint64_t size) {
      if (off >= size) throw BadInput("off " + h(off) + " outside the " + dev + " frame (" + h(size) + " bytes)");
      return base + off;
    };
    if (dev == "gicd") return in_frame(c.gicd_base, gicd_off::kFrameSize);
    if (dev == "gicr") {
      const uint64_t rd = num(r, "rd");
      if (rd >= c.nr_cpus) throw BadInput("gicr record for a redistributor that does not exist");
      return in_frame(c.gicr_base + rd * gicr_off::kStride, gicr_off::kStride);
    }
    if (dev == "its") {
      if (c.its.empty()) throw BadInput("its record but the config has no ITS");
      return in_frame(c.its[0].base, gits_off::kFrameSize);
    }
    throw BadInput("unknown dev '" + dev + "'");
  }
  unsigned cpu_of(const json& r) { return unsigned(num_max(r, "cpu", gic->config().nr_cpus - 1)); }
  uint8_t* memory(uint64_t pa, uint64_t len) {
    if (len > kMaxMemoryWritten - memory_written)
      throw BadInput("memw/memfill records write more than " + std::to_string(kMaxMemoryWritten >> 20) + " MiB in all");
    memory_written += len;
    return ram->at(pa, len);
  }

  void check_no_pending_commands() {
    if (executed.empty()) return;
    mismatch(std::to_string(executed.size()) + " executed command(s) missing from the trace, first opcode " +
             h(its_cmd::Opcode::get(executed.front().cmd[0])));
    executed.clear();
  }

  void record(const json& r) {
    kind = str(r, "k");
    ++rep.records_by_kind[kind];
    if (kind != "cmd") check_no_pending_commands();
    if (kind == "mmio") {
      const uint64_t addr = address(r);
      const unsigned size = unsigned(num_max(r, "size", 8));
      const uint64_t val = hex(r, "val");
      const std::string op = str(r, "op");
      if (op == "w") {
        if (Status s = gic->mmio_write(addr, size, val); !s.ok()) mismatch("write failed: " + s.message());
      } else if (op == "r") {
        uint64_t got = 0;
        if (Status s = gic->mmio_read(addr, size, got); !s.ok()) mismatch("read failed: " + s.message());
        ++rep.reads_checked;
        if (got != val) {
          const std::string reg = r.contains("reg") && r["reg"].is_string() ? r["reg"].get<std::string>() : h(addr);
          mismatch(reg + ": trace " + h(val) + ", vgic " + h(got));
        }
      } else {
        throw BadInput("mmio op must be 'r' or 'w'");
      }
    } else if (kind == "memw") {
      const std::string data = str(r, "data");
      if (data.size() % 2) throw BadInput("memw data has an odd number of hex digits");
      const uint64_t pa = hex(r, "pa");
      // FORMAT.md 4.3: two lower-case hex digits per byte, nothing else.
      for (char ch : data)
        if (hex_digit(ch) < 0) throw BadInput("memw data is not lower-case hex");
      uint8_t* p = memory(pa, data.size() / 2);
      for (size_t i = 0; i < data.size() / 2; ++i) p[i] = uint8_t(hex_digit(data[2 * i]) << 4 | hex_digit(data[2 * i + 1]));
    } else if (kind == "memfill") {
      const uint64_t size = num(r, "size");
      // Real traces fill at most a 24-bit LPI configuration table (16 MiB); a larger fill is
      // treated as bad input rather than touching gigabytes of the RAM model.
      if (size > (64u << 20)) throw BadInput("memfill larger than 64 MiB");
      const uint64_t byte = num_hex_max(r, "byte", 0xff);
      memset(memory(hex(r, "pa"), size), int(byte), size);
    } else if (kind == "sysreg") {
      const std::string reg = str(r, "reg");
      auto it = sysregs().find(reg);
      if (it == sysregs().end()) throw BadInput("unknown system register '" + reg + "'");
      if (str(r, "op") != "w") throw BadInput("sysreg records are writes");
      if (Status s = gic->sysreg_write(cpu_of(r), it->second, hex(r, "val")); !s.ok())
        mismatch(reg + " write failed: " + s.message());
    } else if (kind == "msi") {
      msi(r);
    } else if (kind == "ack") {
      const unsigned cpu = cpu_of(r);
      const uint64_t want = num(r, "intid");
      uint64_t got = 0;
      if (Status s = gic->sysreg_read(cpu, VGIC_SYSREG(3, 0, 12, 12, 0), got); !s.ok()) mismatch("ICC_IAR1 failed: " + s.message());
      ++rep.acks_checked;
      if (got != want) mismatch("CPU " + std::to_string(cpu) + " ICC_IAR1: trace " + std::to_string(want) + ", vgic " + std::to_string(got));
    } else if (kind == "eoi") {
      const uint32_t enc = num_max(r, "grp", 1) == 0 ? VGIC_SYSREG(3, 0, 12, 8, 1) : VGIC_SYSREG(3, 0, 12, 12, 1);
      if (Status s = gic->sysreg_write(cpu_of(r), enc, u32(r, "intid")); !s.ok()) mismatch("ICC_EOIR write failed: " + s.message());
    } else if (kind == "cmd") {
      command(r);
    } else if (kind == "config") {
      throw BadInput("a second config record");
    }
    // hppi, mark, con and unknown kinds are informational (FORMAT.md 6.6).
  }

  void msi(const json& r) {
    ++rep.msis_checked;
    const uint32_t devid = u32(r, "devid"), eventid = u32(r, "eventid");
    // FORMAT.md 4.5: a write to GITS_TRANSLATER, the only doorbell of the translation frame.
    if (r.contains("off") && hex(r, "off") != gits_off::TRANSLATER) throw BadInput("msi off must be 0x40 (GITS_TRANSLATER), is " + h(hex(r, "off")));
    const bool ok = r.at("ok").get<bool>();
    GicCore& core = gic->impl().core;
    if (core.nr_its() == 0) throw BadInput("msi record but the config has no ITS");
    const Its::Translation t = core.its(0).translate(devid, eventid);
    const bool translated = t.outcome == MsiOutcome::pending;
    if (translated != ok) {
      mismatch("MSI dev " + h(devid) + " event " + std::to_string(eventid) + ": trace ok=" + (ok ? "true" : "false") +
               ", vgic " + to_string(t.outcome));
    } else if (ok && (t.intid != num(r, "intid") || t.cpu != num(r, "rd") || t.icid != num(r, "icid"))) {
      mismatch("MSI dev " + h(devid) + " event " + std::to_string(eventid) + ": trace LPI " + std::to_string(num(r, "intid")) +
               " icid " + std::to_string(num(r, "icid")) + " on CPU " + std::to_string(num(r, "rd")) + ", vgic LPI " +
               std::to_string(t.intid) + " icid " + std::to_string(t.icid) + " on CPU " + std::to_string(t.cpu));
    }
    // The MSI itself goes the way a device's does (the lock-free cache first): its outcome must be
    // the translation's.
    const int delivered = gic->signal_msi(gic->config().its[0].base + gits_off::kFrameSize + gits_off::TRANSLATER, eventid, devid);
    if ((delivered == 1) != translated)
      mismatch("MSI dev " + h(devid) + " event " + std::to_string(eventid) + ": translation " + to_string(t.outcome) +
               " but vgic_signal_msi returned " + std::to_string(delivered));
  }

  void command(const json& r) {
    ++rep.commands_checked;
    if (executed.empty()) {
      mismatch("trace has " + str(r, "op") + " at slot " + std::to_string(num(r, "idx")) + " but vgic executed no command");
      return;
    }
    const Executed ran = executed.front();
    const RawCommand& got = ran.cmd;
    executed.pop_front();
    if (const uint64_t idx = num(r, "idx"); idx != ran.slot)
      mismatch("command " + str(r, "op") + ": trace slot " + std::to_string(idx) + ", vgic executed slot " + std::to_string(ran.slot));
    const json& raw = r.at("raw");
    if (!raw.is_array() || raw.size() != 4) throw BadInput("cmd raw must be 4 hex words");
    for (unsigned i = 0; i < 4; ++i) {
      const uint64_t want = hex_at(raw, i);
      if (want != got[i]) {
        mismatch("command " + str(r, "op") + " DW" + std::to_string(i) + ": trace " + h(want) + ", vgic executed " + h(got[i]));
        return;
      }
    }
    if (its_command_name(uint8_t(its_cmd::Opcode::get(got[0]))) != str(r, "op"))
      mismatch("command name: trace " + str(r, "op") + ", vgic " + its_command_name(uint8_t(its_cmd::Opcode::get(got[0]))));
  }

  static uint64_t hex_at(const json& arr, unsigned i) {
    json wrap = {{"v", arr.at(i)}};
    return hex(wrap, "v");
  }
};

}  // namespace

// Bounds on what a trace may make the replay hold: real records are about 1 KiB (a 32-byte command
// with its decoded fields), real traces a few hundred KiB; a .gz expands at most to kMaxTrace.
constexpr size_t kMaxLine = 1u << 20;
constexpr size_t kMaxTrace = 256u << 20;

Report replay(std::istream& in, const Options& opt) {
  Report rep;
  Replayer rp{rep, opt, nullptr, nullptr, {}, 0, 0, 0, {}};
  std::string text;
  try {
    while (std::getline(in, text)) {
      ++rp.line;
      if (text.empty()) throw BadInput("empty line");
      if (text.size() > kMaxLine) throw BadInput("line longer than " + std::to_string(kMaxLine) + " bytes");
      json r;
      try {
        r = json::parse(text);
      } catch (const json::exception& e) {
        throw BadInput(std::string("not JSON: ") + e.what());
      }
      if (!r.is_object()) throw BadInput("a record must be a JSON object");
      rp.n = num(r, "n");
      if (rp.n != rp.line - 1) throw BadInput("record number " + std::to_string(rp.n) + " out of sequence");
      if (rp.line == 1) {
        if (str(r, "k") != "config") throw BadInput("the first record must be the config record");
        ++rep.records_by_kind["config"];
        rp.configure(r);
        continue;
      }
      rp.record(r);
    }
    if (!rp.gic) throw BadInput("no records");
    rp.kind = "end";
    rp.check_no_pending_commands();
  } catch (const BadInput& e) {
    rep.error = "line " + std::to_string(rp.line) + ": " + e.what();
  } catch (const json::exception& e) {
    rep.error = "line " + std::to_string(rp.line) + ": " + e.what();
  }
  return rep;
}

namespace {
Report failed(std::string message) {
  Report r;
  r.error = std::move(message);
  return r;
}
}  // namespace

Report replay_file(const std::string& path, const Options& opt) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  std::string text;
  if (gz) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) return failed("cannot open " + path);
    char buf[1 << 16];
    int got;
    while ((got = gzread(f, buf, sizeof buf)) > 0 && text.size() <= kMaxTrace) text.append(buf, size_t(got));
    int err = Z_OK;
    (void)gzerror(f, &err);
    gzclose(f);
    if (text.size() > kMaxTrace) return failed(path + ": expands to more than " + std::to_string(kMaxTrace >> 20) + " MiB");
    // zlib: Z_BUF_ERROR when the input ends inside the gzip stream (no trailer): a cut-off trace
    // would otherwise be checked as if it were the whole run.
    if (err == Z_BUF_ERROR) return failed(path + ": truncated gzip file");
    if (got < 0) return failed(path + ": not a valid gzip file");
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return failed("cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  std::istringstream in(std::move(text));
  return replay(in, opt);
}

std::string format_report(const Report& r) {
  std::ostringstream o;
  o << "records:";
  for (auto& [k, v] : r.records_by_kind) o << ' ' << k << '=' << v;
  o << "\nchecked: " << r.reads_checked << " register reads, " << r.msis_checked << " MSIs, " << r.commands_checked
    << " commands, " << r.acks_checked << " acknowledgements\n";
  if (!r.error.empty()) o << "error: " << r.error << '\n';
  o << "mismatches: " << r.mismatch_count << '\n';
  for (const Mismatch& m : r.mismatches)
    o << "  record " << m.record << " (line " << m.line << ", " << m.kind << "): " << m.detail << '\n';
  if (r.mismatch_count > r.mismatches.size()) o << "  ... " << (r.mismatch_count - r.mismatches.size()) << " more\n";
  o << (r.ok() ? "PASS" : "FAIL") << '\n';
  return o.str();
}

}  // namespace gicv3::replay
