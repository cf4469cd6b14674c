#include "loader.hpp"

#include <elf.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "layout.hpp"

namespace vgic_machine {

namespace {

bool range_in(uint64_t off, uint64_t len, uint64_t total) { return off <= total && len <= total - off; }

std::string load_elf(std::span<const uint8_t> file, uint64_t ram_base, std::span<uint8_t> ram, LoadedImage& out) {
  Elf64_Ehdr eh;
  if (file.size() < sizeof eh) return "truncated ELF header";
  std::memcpy(&eh, file.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return "not a 64-bit ELF (ELFCLASS64 expected)";
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return "not a little-endian ELF";
  if (eh.e_machine != EM_AARCH64) return "ELF machine is " + std::to_string(eh.e_machine) + ", not AArch64 (183)";
  if (eh.e_type != ET_EXEC) return "ELF is not an executable (ET_EXEC expected)";
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return "bad ELF program header size";
  if (eh.e_phnum == 0) return "ELF has no program headers";
  if (!range_in(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), file.size()))
    return "ELF program headers lie outside the file";
  bool any = false;
  out.low = UINT64_MAX;
  out.high = 0;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, file.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz) return "ELF segment " + std::to_string(i) + ": file size exceeds memory size";
    if (!range_in(ph.p_offset, ph.p_filesz, file.size()))
      return "ELF segment " + std::to_string(i) + " lies outside the file";
    const uint64_t pa = ph.p_paddr;
    if (pa < ram_base || !range_in(pa - ram_base, ph.p_memsz, ram.size())) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "ELF segment %u at 0x%llx (+0x%llx bytes) is not inside RAM 0x%llx..0x%llx", i,
                    (unsigned long long)pa, (unsigned long long)ph.p_memsz, (unsigned long long)ram_base,
                    (unsigned long long)(ram_base + ram.size()));
      return buf;
    }
    std::memcpy(ram.data() + (pa - ram_base), file.data() + ph.p_offset, ph.p_filesz);
    std::memset(ram.data() + (pa - ram_base) + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    out.low = std::min<uint64_t>(out.low, pa);
    out.high = std::max<uint64_t>(out.high, pa + ph.p_memsz);
    any = true;
  }
  if (!any) return "ELF has no loadable segment";
  if (eh.e_entry < ram_base || eh.e_entry - ram_base >= ram.size() || (eh.e_entry & 3))
    return "ELF entry point is not an aligned address in RAM";
  out.entry = eh.e_entry;
  out.elf = true;
  return {};
}

}  // namespace

std::string load_image(std::span<const uint8_t> file, uint64_t ram_base, std::span<uint8_t> ram, LoadedImage& out) {
  if (file.empty()) return "image is empty";
  if (file.size() >= 4 && std::memcmp(file.data(), ELFMAG, SELFMAG) == 0) return load_elf(file, ram_base, ram, out);
  if (!range_in(kImageOffset, file.size(), ram.size())) return "flat image does not fit in RAM above +0x80000";
  std::memcpy(ram.data() + kImageOffset, file.data(), file.size());
  out.entry = ram_base + kImageOffset;
  out.low = out.entry;
  out.high = out.entry + file.size();
  out.elf = false;
  return {};
}

std::string read_file(const std::string& path, uint64_t max_size, std::vector<uint8_t>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return path + ": " + std::strerror(errno);
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) return path + ": cannot determine the size (not a regular file?)";
  if (static_cast<uint64_t>(size) > max_size) return path + ": file larger than " + std::to_string(max_size) + " bytes";
  f.seekg(0);
  out.resize(static_cast<size_t>(size));
  if (size > 0 && !f.read(reinterpret_cast<char*>(out.data()), size)) return path + ": read error";
  return {};
}

}  // namespace vgic_machine
