// Informer: client-go's reflector + store + shared informer for one resource type.
//
//   LIST (paginated: limit/continue) → replace the cache, diffing into add/update/delete
//   WATCH ?resourceVersion=<last>&allowWatchBookmarks=true&timeoutSeconds=<300..600>
//     event   → update the cache and the last resourceVersion (BOOKMARKs too)
//     normal end → re-watch from the last resourceVersion, no relist (a watch that ends in
//                  under 1 s with no event counts as an error)
//     ERROR 410 / HTTP 410 → relist with resourceVersion=<last> (then "" if that is expired)
//     transport error, 5xx, 429 → jittered exponential backoff (800 ms doubling to 30 s, reset
//                  after 2 min without errors), then re-watch (or re-list if the list failed)
//
// The I/O is done by Step(), one action at a time, through a KubeClient; the wait before the
// next action is NextAttempt() on the injected Clock. The thread (Start/Stop) only loops
// "Step, then sleep until NextAttempt". Tests call Step() with a fake client and a FakeClock,
// so no test sleeps.
//
// Handlers are added before Start() and run on the informer's thread (or the caller of Step),
// never under the informer's lock. Cache accessors are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/common/backoff.h"
#include "controller/common/clock.h"
#include "controller/kube/kube_client.h"
#include "nlohmann/json.hpp"

namespace meshd::kube {

struct ResourceType {
  std::string api_version;  // "v1", "networking.istio.io/v1"
  std::string kind;         // "Service"
  std::string plural;       // "services"

  // "/api/v1/services" or "/apis/networking.istio.io/v1/virtualservices" (all namespaces).
  std::string CollectionPath() const;
};

// The jittered exponential backoff of client-go's reflector: 800 ms doubling to 30 s, plus up
// to 100% jitter, reset after 2 minutes without errors.
Backoff::Options ReflectorBackoff();

class Informer {
 public:
  struct Handler {
    std::function<void(const nlohmann::json& obj)> on_add;
    std::function<void(const nlohmann::json& old_obj, const nlohmann::json& obj)> on_update;
    std::function<void(const nlohmann::json& obj)> on_delete;
  };

  struct Options {
    int64_t page_size = 500;
    // The watch's timeoutSeconds is drawn from [min, max] (client-go: 300..600 s).
    int min_watch_seconds = 300;
    int max_watch_seconds = 600;
    // Sent as fieldSelector on every list and watch ("metadata.name=x"); empty: none.
    std::string field_selector;
    Backoff::Options backoff = ReflectorBackoff();
  };

  enum class State { kList, kRelist, kWatch };

  Informer(ResourceType type, KubeClient* client, const Clock* clock, Options options,
           std::function<double()> rand01 = nullptr);
  ~Informer();

  // Before Start() only.
  void AddHandler(Handler handler);
  // Called once after the first successful list was delivered.
  void OnSynced(std::function<void()> fn);

  // Performs one action (a paginated list, or one watch until it ends) and delivers its events.
  // Returns what happened; the next action is due at NextAttempt().
  absl::Status Step();
  absl::Time NextAttempt() const;
  State state() const;
  std::string LastResourceVersion() const;
  bool HasSynced() const { return synced_.load(); }

  // The cached objects, keyed "namespace/name" (or "name" for cluster-scoped types).
  std::map<std::string, nlohmann::json> List() const;
  std::optional<nlohmann::json> Get(const std::string& key) const;
  const ResourceType& type() const { return type_; }

  void Start();
  void Stop();

  static std::string KeyOf(const nlohmann::json& obj);
  // metadata.namespace, or "" (cluster-scoped, or not an object of the API).
  static std::string NamespaceOf(const nlohmann::json& obj);

 private:
  struct Event {
    enum Type { kAdd, kUpdate, kDelete } type;
    nlohmann::json old_obj;
    nlohmann::json obj;
  };

  absl::Status DoList();
  absl::Status DoWatch();
  void Fail(absl::Duration min_delay = absl::ZeroDuration());
  void Dispatch(const std::vector<Event>& events);
  void Normalize(nlohmann::json* obj) const;
  void Run();

  const ResourceType type_;
  KubeClient* const client_;
  const Clock* const clock_;
  const Options options_;
  std::function<double()> rand01_;
  std::vector<Handler> handlers_;
  std::vector<std::function<void()>> synced_fns_;

  mutable absl::Mutex mu_;
  std::map<std::string, nlohmann::json> cache_ ABSL_GUARDED_BY(mu_);
  std::string last_rv_ ABSL_GUARDED_BY(mu_);
  State state_ ABSL_GUARDED_BY(mu_) = State::kList;
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<bool> synced_{false};
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

// One informer per resource type, shared by every consumer (client-go's
// SharedInformerFactory). Thread-safe; informers live as long as the factory.
class InformerFactory {
 public:
  InformerFactory(KubeClient* client, const Clock* clock, Informer::Options options = {})
      : client_(client), clock_(clock), options_(options) {}
  ~InformerFactory() { Stop(); }

  // The informer of `type` (created on first use).
  Informer* For(const ResourceType& type);
  void Start();
  void Stop();
  bool AllSynced() const;

 private:
  KubeClient* const client_;
  const Clock* const clock_;
  const Informer::Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Informer>> informers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshd::kube
