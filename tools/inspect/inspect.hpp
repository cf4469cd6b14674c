// The snapshot inspector (issue 6, `vgic inspect`): decodes a vgic_save blob without a GIC and
// renders the state it holds: configuration; enabled, pending and active interrupts per CPU; LPI
// configuration; every ITS's devices -> events -> LPIs -> collections -> CPUs.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>

namespace gicv3::inspect {

enum class Format { text, json, dot };

// Decodes a vgic_save blob and renders it: text for people, JSON (nlohmann-json) for tools, DOT a
// Graphviz digraph of the ITS routing graph. On a corrupt or foreign blob returns false and sets
// *error (if given) to the decoder's message (section, field, offset).
bool render(std::span<const uint8_t> blob, Format fmt, std::ostream& out, std::string* error);

}  // namespace gicv3::inspect
