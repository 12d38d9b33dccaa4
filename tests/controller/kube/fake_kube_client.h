// A scripted KubeClient for unit tests: requests are answered by a function, streams (watches)
// replay queued scripts. Records every path. Thread-compatible (tests drive it from one thread).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "controller/kube/kube_client.h"

namespace meshd::kube::testing {

class FakeKubeClient : public KubeClient {
 public:
  struct StreamScript {
    std::vector<std::string> lines;
    absl::Status end = absl::OkStatus();
  };

  std::function<absl::StatusOr<KubeResponse>(const std::string& method, const std::string& path,
                                             const std::string& body)>
      on_request;
  std::deque<StreamScript> streams;
  std::vector<std::string> requests;  // "GET /api/v1/services?limit=500"
  std::vector<std::string> stream_paths;

  absl::StatusOr<KubeResponse> Request(const std::string& method, const std::string& path,
                                       const std::string& body,
                                       const std::string& /*content_type*/) override {
    requests.push_back(method + " " + path);
    if (!on_request) return absl::UnavailableError("no server");
    return on_request(method, path, body);
  }

  absl::Status Stream(const std::string& path,
                      const std::function<bool(absl::string_view line)>& on_line,
                      const std::atomic<bool>* /*cancel*/) override {
    stream_paths.push_back(path);
    if (streams.empty()) return absl::UnavailableError("no stream scripted");
    StreamScript s = streams.front();
    streams.pop_front();
    for (const auto& l : s.lines) {
      if (!on_line(l)) return absl::OkStatus();
    }
    return s.end;
  }

  std::string Namespace() const override { return "istio-system"; }
};

}  // namespace meshd::kube::testing
