#include "its/its_tables.hpp"

#include "mem/guest_memory.hpp"

namespace gicv3 {

TableGeometry TableGeometry::from_baser(uint64_t baser) {
  TableGeometry t;
  t.valid = GITS_BASER::Valid::get(baser);
  t.indirect = GITS_BASER::Indirect::get(baser);
  static constexpr uint64_t kPage[4] = {4096, 16384, 65536, 65536};  // 0b11 is reserved: treated as 64 KiB
  t.page_size = kPage[GITS_BASER::Page_Size::get(baser)];
  t.pages = GITS_BASER::Size::get(baser) + 1;
  t.entry_size = unsigned(GITS_BASER::Entry_Size::get(baser)) + 1;
  const uint64_t field = GITS_BASER::Physical_Address::get(baser) << 12;  // PA[47:12]
  if (t.page_size == 65536) {
    // With 64 KiB pages, bits [15:12] of the register hold PA[51:48] (IHI0069 12.19.1).
    t.base = (field & ~0xFFFFull) | ((field >> 12) & 0xF) << 48;
  } else {
    t.base = field & ~(t.page_size - 1);
  }
  return t;
}

TableLookup table_entry_address(const GuestMemory& mem, const TableGeometry& t, uint64_t id, uint64_t& addr) {
  if (!t.valid) return TableLookup::out_of_range;
  if (!t.indirect) {
    if (id >= t.bytes() / t.entry_size) return TableLookup::out_of_range;
    addr = t.base + id * t.entry_size;
    return TableLookup::ok;
  }
  const uint64_t l1_index = id / t.ids_per_page();
  if (l1_index >= t.bytes() / 8) return TableLookup::out_of_range;
  uint64_t l1;
  if (!mem.read_u64(t.base + l1_index * 8, l1)) return TableLookup::unreadable;
  if (!ITS_L1_ENTRY::Valid::get(l1)) return TableLookup::l1_invalid;
  const uint64_t page = (ITS_L1_ENTRY::Physical_Address::get(l1) << 12) & ~(t.page_size - 1);
  addr = page + (id % t.ids_per_page()) * t.entry_size;
  return TableLookup::ok;
}

}  // namespace gicv3
