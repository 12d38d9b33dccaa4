// FakeTokenReviewer: a TokenReviewer with a fixed table of tokens, for tests. It answers as the
// API server does: a known token is authenticated when its audiences intersect the requested
// ones (status.audiences is the intersection); an unknown token is not authenticated.
//
// Thread-safety: thread-safe.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ca/server/token_reviewer.h"

namespace meshd::ca {

class FakeTokenReviewer : public TokenReviewer {
 public:
  // `token` stands for service account `ns`/`sa`, bound to `audiences`.
  void AddServiceAccount(const std::string& token, const std::string& ns, const std::string& sa,
                         std::vector<std::string> audiences = {"istio-ca"}) {
    TokenReviewResult result;
    result.authenticated = true;
    result.username = absl::StrCat("system:serviceaccount:", ns, ":", sa);
    result.groups = {"system:serviceaccounts", absl::StrCat("system:serviceaccounts:", ns),
                     "system:authenticated"};
    result.audiences = std::move(audiences);
    SetResult(token, std::move(result));
  }

  // Answers `result` verbatim for `token` (audiences still intersected).
  void SetResult(const std::string& token, TokenReviewResult result) {
    absl::MutexLock lock(&mu_);
    results_[token] = std::move(result);
  }

  // Every review fails with `status` (e.g. the API server is unreachable) until reset with OK.
  void SetError(absl::Status status) {
    absl::MutexLock lock(&mu_);
    error_ = std::move(status);
  }

  int reviews() const {
    absl::MutexLock lock(&mu_);
    return reviews_;
  }

  absl::StatusOr<TokenReviewResult> Review(absl::string_view token,
                                           const std::vector<std::string>& audiences) override {
    absl::MutexLock lock(&mu_);
    ++reviews_;
    if (!error_.ok()) return error_;
    auto it = results_.find(std::string(token));
    if (it == results_.end()) {
      TokenReviewResult rejected;
      rejected.error = "invalid bearer token";
      return rejected;
    }
    TokenReviewResult result = it->second;
    std::vector<std::string> matched;
    for (const std::string& a : result.audiences) {
      if (std::find(audiences.begin(), audiences.end(), a) != audiences.end()) matched.push_back(a);
    }
    if (!audiences.empty() && matched.empty()) {
      TokenReviewResult rejected;
      rejected.error = "token audiences do not match";
      return rejected;
    }
    if (!audiences.empty()) result.audiences = std::move(matched);
    return result;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, TokenReviewResult> results_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  int reviews_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshd::ca
