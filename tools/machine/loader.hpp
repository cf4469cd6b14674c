// Guest image loading: an ELF64 AArch64 executable at its own physical addresses (entry from the
// ELF), or a flat binary at RAM + 0x80000. Every value in the file is untrusted: offsets, sizes
// and addresses are checked against the file and the RAM before anything is copied.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vgic_machine {

struct LoadedImage {
  uint64_t entry = 0;
  uint64_t low = 0, high = 0;  // [low, high): the guest-physical bytes the image occupies
  bool elf = false;
};

// Loads `file` into `ram` (guest-physical ram_base .. ram_base + ram.size()). Returns an empty
// string on success, else a message saying what is wrong with the image.
std::string load_image(std::span<const uint8_t> file, uint64_t ram_base, std::span<uint8_t> ram,
                       LoadedImage& out);

// Reads a whole file (bounded by max_size). Empty string on success, else a message.
std::string read_file(const std::string& path, uint64_t max_size, std::vector<uint8_t>& out);

}  // namespace vgic_machine
