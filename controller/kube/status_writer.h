// StatusWriter: leader-only; writes Istio's IstioStatus (istio/api meta/v1alpha1: conditions,
// validationMessages, observedGeneration) into the `status` subresource of every Istio object
// meshd serves from the API server. What each object's status should say comes from a
// caller-supplied function (DesiredStatus: accepted or rejected with the field path, and the
// distribution to proxies); the writer only turns it into the status JSON (IstioStatusJson, pure)
// and writes it: GET the object, PUT .../<name>/status with the resourceVersion read; a 409
// Conflict re-GETs and retries (bounded). Writes are coalesced: the worker runs every
// `interval`, so an object is written at most once per interval, and only when what it would
// write differs from what it last wrote (and from what the object holds). The worker is its own
// thread: a slow or failing API server delays only status, never xDS pushes; a failing one is
// asked once a round, not once per object. Errors are counted
// (meshd_config_status_writes_total{result}) and logged once per object until it is written.
// Start()/Stop() follow leadership; WriteAll() is one synchronous round, for tests.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/kube/kube_client.h"
#include "controller/kube/leader_loop.h"
#include "nlohmann/json.hpp"

namespace meshd::kube {

struct DesiredStatus {
  // The object's path: "/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews".
  std::string path;
  std::string object;  // for logs: "VirtualService default/reviews"
  int64_t generation = 0;
  bool accepted = true;
  std::string rejection;              // why not accepted (field path and message)
  std::vector<std::string> warnings;  // accepted with warnings (one per field path)
  // The distribution condition ("Reconciled"): true when every proxy that selects the object
  // applied it and none NACKed it; the message says by how many.
  bool distribution_known = false;
  bool reconciled = false;
  std::string distribution_message;
};

// The IstioStatus for `desired`. Conditions keep `existing`'s lastTransitionTime when their
// type and status are unchanged; otherwise they get `now` (RFC 3339). Pure.
nlohmann::json IstioStatusJson(const DesiredStatus& desired, const nlohmann::json& existing,
                               const std::string& now);

class StatusWriter {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(1);
    int max_attempts = 3;  // per object and round: the first PUT plus retries after a 409
  };
  using Source = std::function<std::vector<DesiredStatus>()>;

  StatusWriter(KubeClient* client, Options options, Source source);
  ~StatusWriter();

  void Start();
  void Stop();

  // One round: every object whose desired status changed since it was last written. OK when
  // every write succeeded (or was not needed).
  absl::Status WriteAll();
  // One object: GET, compare, PUT .../status; a 409 re-GETs and retries.
  absl::Status Write(const DesiredStatus& desired);

 private:
  static std::string Fingerprint(const DesiredStatus& desired);

  KubeClient* const client_;
  const Options options_;
  const Source source_;

  absl::Mutex mu_;
  // Per object path: the fingerprint of the last desired status written (or found in place).
  std::map<std::string, std::string> written_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> error_logged_ ABSL_GUARDED_BY(mu_);
  // Runs WriteAll every `interval` (the first after one interval) while leader. Last: its
  // thread stops before the members it uses go.
  LeaderLoop loop_;
};

}  // namespace meshd::kube
