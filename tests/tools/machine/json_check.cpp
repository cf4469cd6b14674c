// json_check FILE [JSON_POINTER...]: exits 0 when FILE parses as JSON and every pointer exists in
// it; otherwise prints why and exits 1. Lets the `vgic inspect --json` tests check the output
// with the same JSON library the tool uses, without a scripting language on the CI machine.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: json_check FILE [JSON_POINTER...]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "json_check: %s: %s\n", argv[1], e.what());
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    try {
      if (!doc.contains(nlohmann::json::json_pointer(argv[i]))) {
        std::fprintf(stderr, "json_check: %s: no %s\n", argv[1], argv[i]);
        return 1;
      }
    } catch (const nlohmann::json::exception& e) {
      std::fprintf(stderr, "json_check: bad pointer %s: %s\n", argv[i], e.what());
      return 1;
    }
  }
  return 0;
}
