#include "controller/debouncer.h"

namespace meshd {

void Debouncer::Add(const model::PushRequest& request, absl::Time now) {
  if (!pending_) {
    pending_ = request;
    first_ = now;
  } else {
    pending_->Merge(request);
  }
  last_ = now;
}

std::optional<absl::Time> Debouncer::Deadline() const {
  if (!pending_) return std::nullopt;
  const model::PushRequest& p = *pending_;
  const bool endpoints_only =
      p.service_hosts.empty() &&
      (p.full ? !p.configs_updated.empty() && p.endpoint_configs.size() == p.configs_updated.size()
              : p.configs_updated.empty());
  const absl::Duration quiet = endpoints_only ? endpoint_quiet_ : quiet_;
  // The first change after a quiet spell goes out at once.
  if (leading_edge_ && first_ - released_ >= quiet) return first_;
  return std::min(last_ + quiet, first_ + max_);
}

std::optional<model::PushRequest> Debouncer::Poll(absl::Time now) {
  auto deadline = Deadline();
  if (!deadline || now < *deadline) return std::nullopt;
  std::optional<model::PushRequest> out = std::move(pending_);
  pending_.reset();
  released_ = now;
  return out;
}

}  // namespace meshd
