// Image loader: ELF64 AArch64 executables at their physical addresses, flat binaries at RAM +
// 0x80000, and every untrusted field of an ELF checked before anything is copied.
#include "loader.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace vgic_machine {
namespace {

constexpr uint64_t kBase = 0x40000000;

struct ElfBuilder {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  std::vector<uint8_t> payload;
  ElfBuilder() {
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_AARCH64;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_entry = kBase + 0x80000;
  }
  // One PT_LOAD of `bytes` at `pa`, memsz = filesz + bss.
  void load(uint64_t pa, std::vector<uint8_t> bytes, uint64_t bss = 0) {
    Elf64_Phdr p{};
    p.p_type = PT_LOAD;
    p.p_paddr = pa;
    p.p_filesz = bytes.size();
    p.p_memsz = bytes.size() + bss;
    p.p_offset = payload.size();  // fixed up in build()
    payload.insert(payload.end(), bytes.begin(), bytes.end());
    ph.push_back(p);
  }
  std::vector<uint8_t> build() {
    eh.e_phoff = sizeof eh;
    eh.e_phnum = static_cast<uint16_t>(ph.size());
    const uint64_t data = sizeof eh + ph.size() * sizeof(Elf64_Phdr);
    std::vector<uint8_t> f(sizeof eh);
    std::memcpy(f.data(), &eh, sizeof eh);
    for (Elf64_Phdr p : ph) {
      p.p_offset += data;
      const size_t at = f.size();
      f.resize(at + sizeof p);
      std::memcpy(f.data() + at, &p, sizeof p);
    }
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
  }
};

class LoaderTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> ram = std::vector<uint8_t>(4 << 20, 0xEE);
  LoadedImage li;
  std::string load(const std::vector<uint8_t>& f) { return load_image(f, kBase, ram, li); }
};

TEST_F(LoaderTest, FlatBinaryGoesToRamPlus0x80000) {
  EXPECT_EQ(load({1, 2, 3, 4}), "");
  EXPECT_FALSE(li.elf);
  EXPECT_EQ(li.entry, kBase + 0x80000);
  EXPECT_EQ(ram[0x80000], 1);
  EXPECT_EQ(ram[0x80003], 4);
}

TEST_F(LoaderTest, ElfSegmentsAtTheirAddressesWithBssZeroedAndEntryFromTheHeader) {
  ElfBuilder b;
  b.load(kBase + 0x100000, {0xAA, 0xBB}, 6);
  b.eh.e_entry = kBase + 0x100000;
  EXPECT_EQ(load(b.build()), "");
  EXPECT_TRUE(li.elf);
  EXPECT_EQ(li.entry, kBase + 0x100000);
  EXPECT_EQ(ram[0x100000], 0xAA);
  EXPECT_EQ(ram[0x100001], 0xBB);
  for (int i = 2; i < 8; ++i) EXPECT_EQ(ram[0x100000 + i], 0) << i;  // bss
  EXPECT_EQ(ram[0x100008], 0xEE);                                     // untouched beyond memsz
  EXPECT_EQ(li.low, kBase + 0x100000);
  EXPECT_EQ(li.high, kBase + 0x100008);
}

TEST_F(LoaderTest, RejectsEmptyAndWrongElfs) {
  EXPECT_EQ(load({}), "image is empty");
  ElfBuilder b;
  b.load(kBase + 0x80000, {0});
  b.eh.e_machine = EM_X86_64;
  EXPECT_NE(load(b.build()).find("not AArch64"), std::string::npos);
  ElfBuilder c;
  c.load(kBase + 0x80000, {0});
  c.eh.e_ident[EI_CLASS] = ELFCLASS32;
  EXPECT_NE(load(c.build()).find("64-bit"), std::string::npos);
  ElfBuilder d;
  d.load(kBase + 0x80000, {0});
  d.eh.e_type = ET_DYN;
  EXPECT_NE(load(d.build()).find("ET_EXEC"), std::string::npos);
}

TEST_F(LoaderTest, RejectsSegmentsOutsideRamOrFile) {
  ElfBuilder below;
  below.load(kBase - 0x1000, {1});
  EXPECT_NE(load(below.build()).find("not inside RAM"), std::string::npos);
  ElfBuilder past;
  past.load(kBase + ram.size() - 1, {1, 2});
  EXPECT_NE(load(past.build()).find("not inside RAM"), std::string::npos);
  ElfBuilder huge;  // memsz that wraps the address space
  huge.load(kBase + 0x80000, {1}, UINT64_MAX - 4);
  EXPECT_NE(load(huge.build()).find("not inside RAM"), std::string::npos);
  ElfBuilder off;
  off.load(kBase + 0x80000, {1, 2, 3});
  auto f = off.build();
  f.resize(f.size() - 1);  // the segment's bytes run past the end of the file
  EXPECT_NE(load(f).find("outside the file"), std::string::npos);
  ElfBuilder phdrs;
  phdrs.load(kBase + 0x80000, {1});
  auto g = phdrs.build();
  g.resize(sizeof(Elf64_Ehdr) + 8);  // program headers cut off
  EXPECT_NE(load(g).find("program headers"), std::string::npos);
}

TEST_F(LoaderTest, RejectsEntryOutsideRamAndFileSizeAboveMemorySize) {
  ElfBuilder b;
  b.load(kBase + 0x80000, {1, 2, 3, 4});
  b.eh.e_entry = 0x1000;
  EXPECT_NE(load(b.build()).find("entry point"), std::string::npos);
  ElfBuilder c;
  c.load(kBase + 0x80000, {1, 2, 3, 4});
  c.ph[0].p_memsz = 2;
  EXPECT_NE(load(c.build()).find("file size exceeds memory size"), std::string::npos);
}

TEST_F(LoaderTest, FlatImageTooBigForRam) {
  std::vector<uint8_t> big(ram.size() - 0x80000 + 1, 0);
  EXPECT_NE(load(big).find("does not fit"), std::string::npos);
}

}  // namespace
}  // namespace vgic_machine
