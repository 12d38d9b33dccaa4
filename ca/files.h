// Small file helpers for key material: atomic writes (temporary file + rename, so a reader such
// as gRPC's file watcher never sees a partial file) and whole-file reads.
//
// Thread-safety: thread-safe (distinct paths).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meshd::ca {

// Writes `contents` to `path` with permissions `mode`, creating missing parent directories.
absl::Status WriteFileAtomic(const std::string& path, const std::string& contents, int mode = 0644);
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace meshd::ca
