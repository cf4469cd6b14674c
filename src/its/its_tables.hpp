// The ITS tables the guest provides through GITS_BASER<n> (IHI0069 5.2): their geometry, and the
// one walker that maps an ID to its entry for flat and two-level (indirect) tables at every page
// size. vgic keeps live translations in host structures; the walker is what decides whether an ID
// is covered by the guest's table (command errors), and where save/restore puts an entry.
#pragma once

#include <cstdint>

#include "its/its_regs.hpp"

namespace gicv3 {

class GuestMemory;

struct TableGeometry {
  bool valid = false;
  bool indirect = false;
  uint64_t base = 0;       // physical address of the (level-1) table
  uint64_t page_size = 4096;
  uint64_t pages = 1;
  unsigned entry_size = 8;

  static TableGeometry from_baser(uint64_t baser);
  uint64_t bytes() const { return pages * page_size; }
  uint64_t ids_per_page() const { return page_size / entry_size; }
  // Number of IDs the table can describe at most (for indirect tables: if every level-1 entry were valid).
  uint64_t max_ids() const { return indirect ? (bytes() / 8) * ids_per_page() : bytes() / entry_size; }
};

enum class TableLookup { ok, out_of_range, l1_invalid, unreadable };

// Address of id's entry. For an indirect table the level-1 entry is read from guest RAM: an
// invalid one (Valid == 0) means the ID is not backed by memory (IHI0069 5.2.1).
TableLookup table_entry_address(const GuestMemory& mem, const TableGeometry& t, uint64_t id, uint64_t& addr);

}  // namespace gicv3
