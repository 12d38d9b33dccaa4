// Helpers shared by the libFuzzer targets: the fuzzer's bytes as a string, and wrapped in a
// PEM block so the DER parsers behind the PEM layer are reached directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace meshd::fuzz {

inline absl::string_view Bytes(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// `der` base64-encoded between BEGIN/END `label` lines, 64 columns as PEM writers do.
inline std::string WrapPem(absl::string_view label, absl::string_view der) {
  std::string b64 = absl::Base64Escape(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

// The first byte chooses how the rest is read: even → as given (PEM text), odd → DER wrapped
// in a PEM block with `label`. Seeds of either form are found by the mutator.
inline std::string PemOrDer(absl::string_view label, const uint8_t* data, size_t size) {
  if (size == 0) return "";
  absl::string_view rest = Bytes(data + 1, size - 1);
  return (data[0] & 1) ? WrapPem(label, rest) : std::string(rest);
}

}  // namespace meshd::fuzz
