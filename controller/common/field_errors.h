// FieldErrors collects every validation error of one object, each with the field path it
// concerns (`spec.http[0].route[1].weight`), so a user sees all problems at once.
// Not thread-safe: one instance belongs to one decoding pass.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace meshd {

struct FieldError {
  std::string path;
  std::string message;
};

class FieldErrors {
 public:
  // Adds `message` for the field at `path` (empty path: the object as a whole).
  void Add(absl::string_view path, absl::string_view message);

  bool empty() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }

  // "path: message; path: message" in insertion order.
  std::string ToString() const;
  // OK when empty; otherwise InvalidArgument carrying ToString().
  absl::Status ToStatus() const;

 private:
  std::vector<FieldError> errors_;
};

// Joins a parent path and a child field name: ("spec.http[0]", "route") -> "spec.http[0].route".
std::string JoinPath(absl::string_view parent, absl::string_view child);
// ("spec.http", 2) -> "spec.http[2]".
std::string IndexPath(absl::string_view parent, size_t index);
// ("spec.headers", "x-user") -> "spec.headers[x-user]".
std::string KeyPath(absl::string_view parent, absl::string_view key);

}  // namespace meshd
