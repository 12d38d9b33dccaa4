// libFuzzer target: SPIFFE IDs (URI SANs of client certificates and CSRs):
// ParseSpiffeUri, and that a parsed identity formats back to the same URI.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ca/identity.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshd;
  absl::string_view uri = fuzz::Bytes(data, size);
  auto identity = ca::ParseSpiffeUri(uri);
  if (!identity.ok()) return 0;
  if (!ca::ValidateIdentity(*identity).ok()) std::abort();
  if (ca::SpiffeUri(*identity, identity->trust_domain) != uri) std::abort();
  return 0;
}
