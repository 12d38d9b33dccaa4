#include "xds/gen/resource.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace meshd::xds {

void OriginSet::AddServiceOrigin(const model::Service* service) {
  if (service == nullptr) return;
  if (auto key = ServiceEntryOf(*service)) keys_.push_back(std::move(*key));
}

Origins OriginSet::Build() const {
  // One shared empty set: "recorded, none" differs from null, "not recorded".
  static const Origins* none = new Origins(std::make_shared<const std::vector<model::ConfigKey>>());
  if (keys_.empty()) return *none;
  std::vector<model::ConfigKey> keys = keys_;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return std::make_shared<const std::vector<model::ConfigKey>>(std::move(keys));
}

std::optional<model::ConfigKey> ServiceEntryOf(const model::Service& service) {
  constexpr absl::string_view kPrefix = "ServiceEntry/";
  if (!absl::StartsWith(service.origin, kPrefix)) return std::nullopt;
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(service.origin).substr(kPrefix.size()), '/');
  if (parts.size() != 2) return std::nullopt;
  return model::ConfigKey{model::Kind::kServiceEntry, parts[0], parts[1]};
}

}  // namespace meshd::xds
