#include "controller/common/field_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshd {

void FieldErrors::Add(absl::string_view path, absl::string_view message) {
  errors_.push_back({std::string(path), std::string(message)});
}

std::string FieldErrors::ToString() const {
  return absl::StrJoin(errors_, "; ", [](std::string* out, const FieldError& e) {
    if (e.path.empty()) {
      absl::StrAppend(out, e.message);
    } else {
      absl::StrAppend(out, e.path, ": ", e.message);
    }
  });
}

absl::Status FieldErrors::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(ToString());
}

std::string JoinPath(absl::string_view parent, absl::string_view child) {
  if (parent.empty()) return std::string(child);
  return absl::StrCat(parent, ".", child);
}

std::string IndexPath(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

std::string KeyPath(absl::string_view parent, absl::string_view key) {
  return absl::StrCat(parent, "[", key, "]");
}

}  // namespace meshd
