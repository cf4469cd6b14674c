// The ITS command list (IHI0069 5.3): opcode -> name -> handler. One entry per physical command.
#pragma once

#include <cstdint>

#include "its/its.hpp"

namespace gicv3 {

struct ItsCommandDesc {
  uint8_t opcode;
  const char* name;
  CommandOutcome (*handler)(Its& its, const RawCommand& cmd);
};

// nullptr for an opcode that is not a physical GICv3 command.
const ItsCommandDesc* find_its_command(uint8_t opcode);
const char* its_command_name(uint8_t opcode);

}  // namespace gicv3
