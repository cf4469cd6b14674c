// Host bytes live on the heap, counted by replacing the global operator new/delete for the
// benchmark programs (counting_allocator.cpp). Item 7 uses the difference across building a
// guest's state: what vgic really allocated, hash-map nodes and allocator rounding included.
#pragma once

#include <cstddef>

namespace gicv3::bench {
// Bytes currently allocated through operator new (malloc_usable_size of each block).
size_t live_heap_bytes();
}  // namespace gicv3::bench
