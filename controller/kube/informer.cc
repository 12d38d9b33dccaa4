#include "controller/kube/informer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace meshd::kube {
namespace {

using nlohmann::json;

// The HTTP code of a metav1.Status body (0 if it is not one).
int StatusCode(absl::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return 0;
  auto it = j.find("code");
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::string Str(const json& j, const char* a, const char* b) {
  auto ia = j.find(a);
  if (ia == j.end() || !ia->is_object()) return "";
  auto ib = ia->find(b);
  return ib != ia->end() && ib->is_string() ? ib->get<std::string>() : "";
}

// Percent-encodes a query value (continue tokens are opaque).
std::string QueryEscape(const std::string& v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string ResourceType::CollectionPath() const {
  if (api_version.find('/') == std::string::npos)
    return absl::StrCat("/api/", api_version, "/", plural);
  return absl::StrCat("/apis/", api_version, "/", plural);
}

Backoff::Options ReflectorBackoff() {
  Backoff::Options o;
  o.initial = absl::Milliseconds(800);
  o.max = absl::Seconds(30);
  o.multiplier = 2.0;
  o.jitter = 1.0;
  o.reset_after = absl::Minutes(2);
  return o;
}

Informer::Informer(ResourceType type, KubeClient* client, const Clock* clock, Options options,
                   std::function<double()> rand01)
    : type_(std::move(type)),
      client_(client),
      clock_(clock),
      options_(options),
      rand01_(rand01 ? std::move(rand01) : Backoff::DefaultRandom()),
      backoff_(options.backoff, clock, rand01_) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandler(Handler handler) { handlers_.push_back(std::move(handler)); }
void Informer::OnSynced(std::function<void()> fn) { synced_fns_.push_back(std::move(fn)); }

absl::Time Informer::NextAttempt() const {
  absl::MutexLock lock(&mu_);
  return next_attempt_;
}

Informer::State Informer::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

std::string Informer::LastResourceVersion() const {
  absl::MutexLock lock(&mu_);
  return last_rv_;
}

std::map<std::string, json> Informer::List() const {
  absl::MutexLock lock(&mu_);
  return cache_;
}

std::optional<json> Informer::Get(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::string Informer::NamespaceOf(const json& obj) { return Str(obj, "metadata", "namespace"); }

std::string Informer::KeyOf(const json& obj) {
  std::string ns = NamespaceOf(obj);
  std::string name = Str(obj, "metadata", "name");
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

void Informer::Normalize(json* obj) const {
  // The real apiserver omits apiVersion/kind on list items of built-in types.
  if (!obj->contains("apiVersion") || !(*obj)["apiVersion"].is_string()) {
    (*obj)["apiVersion"] = type_.api_version;
  }
  if (!obj->contains("kind") || !(*obj)["kind"].is_string()) (*obj)["kind"] = type_.kind;
}

void Informer::Fail(absl::Duration min_delay) {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  next_attempt_ = now + std::max(min_delay, backoff_.Next());
}

void Informer::Dispatch(const std::vector<Event>& events) {
  for (const auto& e : events) {
    for (const auto& h : handlers_) {
      try {
        switch (e.type) {
          case Event::kAdd:
            if (h.on_add) h.on_add(e.obj);
            break;
          case Event::kUpdate:
            if (h.on_update) h.on_update(e.old_obj, e.obj);
            break;
          case Event::kDelete:
            if (h.on_delete) h.on_delete(e.obj);
            break;
        }
      } catch (const std::exception& ex) {
        spdlog::error("informer {}: handler failed on {}: {}", type_.plural, KeyOf(e.obj),
                      ex.what());
      }
    }
  }
}

absl::Status Informer::Step() {
  State state;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    state = state_;
  }
  return state == State::kWatch ? DoWatch() : DoList();
}

absl::Status Informer::DoList() {
  std::string rv;
  bool paginate = true;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kRelist) {
      rv = last_rv_;  // not older than what we saw; unpaginated, as client-go after a 410
      paginate = false;
    }
  }
  std::map<std::string, json> items;
  std::string list_rv;
  std::string cont;
  do {
    std::string path = type_.CollectionPath();
    std::string sep = "?";
    if (!options_.field_selector.empty()) {
      absl::StrAppend(&path, sep, "fieldSelector=", QueryEscape(options_.field_selector));
      sep = "&";
    }
    if (paginate) {
      absl::StrAppend(&path, sep, "limit=", options_.page_size);
      sep = "&";
      if (!cont.empty()) absl::StrAppend(&path, sep, "continue=", QueryEscape(cont));
    }
    if (!rv.empty() && cont.empty()) {
      absl::StrAppend(&path, sep, "resourceVersion=", QueryEscape(rv));
    }
    absl::StatusOr<KubeResponse> resp = client_->Request("GET", path);
    if (!resp.ok()) {
      spdlog::warn("informer {}: list failed: {}", type_.plural, resp.status().ToString());
      Fail();
      return resp.status();
    }
    if (resp->status == 410) {
      // An expired continue token or RV: list again from the current state, at once.
      spdlog::info("informer {}: list expired (410); listing the current state", type_.plural);
      absl::MutexLock lock(&mu_);
      state_ = State::kList;
      next_attempt_ = clock_->Now();
      return absl::OutOfRangeError("list expired");
    }
    if (resp->status != 200) {
      spdlog::warn("informer {}: list answered HTTP {}: {}", type_.plural, resp->status,
                   resp->body.substr(0, 300));
      absl::Duration min_delay = absl::ZeroDuration();
      int secs = 0;
      if (resp->status == 429 && absl::SimpleAtoi(resp->retry_after, &secs)) {
        min_delay = absl::Seconds(secs);
      }
      Fail(min_delay);
      return absl::UnavailableError(absl::StrCat("list: HTTP ", resp->status));
    }
    json j = json::parse(resp->body, nullptr, false);
    if (!j.is_object() || !j.contains("items")) {
      Fail();
      return absl::DataLossError("list: not a List");
    }
    if (j["items"].is_array()) {
      for (auto& item : j["items"]) {
        if (!item.is_object()) continue;
        Normalize(&item);
        std::string key = KeyOf(item);  // before the move: json's operator= takes by value
        items[key] = std::move(item);
      }
    }
    list_rv = Str(j, "metadata", "resourceVersion");
    cont = paginate ? Str(j, "metadata", "continue") : "";
  } while (!cont.empty());

  // Replace the cache, diffing it into synthetic events (DeltaFIFO.Replace).
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, obj] : items) {
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        events.push_back({Event::kAdd, json(), obj});
      } else if (it->second != obj) {
        events.push_back({Event::kUpdate, it->second, obj});
      }
    }
    for (auto& [key, obj] : cache_) {
      if (!items.count(key)) events.push_back({Event::kDelete, json(), obj});
    }
    cache_ = std::move(items);
    last_rv_ = list_rv;
    state_ = State::kWatch;
    next_attempt_ = clock_->Now();
  }
  spdlog::info("informer {}: listed {} objects at resourceVersion {} ({} changes)", type_.plural,
               List().size(), list_rv, events.size());
  Dispatch(events);
  if (!synced_.exchange(true)) {
    for (const auto& fn : synced_fns_) fn();
  }
  return absl::OkStatus();
}

absl::Status Informer::DoWatch() {
  std::string rv = LastResourceVersion();
  int span = std::max(0, options_.max_watch_seconds - options_.min_watch_seconds);
  int timeout = options_.min_watch_seconds + static_cast<int>(rand01_() * (span + 1));
  timeout = std::min(timeout, options_.max_watch_seconds);
  std::string path =
      absl::StrCat(type_.CollectionPath(), "?watch=true&allowWatchBookmarks=true",
                   "&resourceVersion=", QueryEscape(rv), "&timeoutSeconds=", timeout);
  if (!options_.field_selector.empty()) {
    absl::StrAppend(&path, "&fieldSelector=", QueryEscape(options_.field_selector));
  }
  absl::Time start = clock_->Now();
  int received = 0;
  bool expired = false;
  std::string error;
  absl::Status s = client_->Stream(
      path,
      [&](absl::string_view line) {
        json ev = json::parse(line, nullptr, false);
        if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string() ||
            !ev.contains("object") || !ev["object"].is_object()) {
          error = absl::StrCat("malformed watch event: ", line.substr(0, 200));
          return false;
        }
        ++received;
        std::string type = ev["type"].get<std::string>();
        json& obj = ev["object"];
        if (type == "ERROR") {
          int code = obj.value("code", 0);
          if (code == 410) {
            expired = true;
          } else {
            error = absl::StrCat("watch ERROR event: ", obj.dump().substr(0, 300));
          }
          return false;
        }
        std::string obj_rv = Str(obj, "metadata", "resourceVersion");
        if (type == "BOOKMARK") {
          absl::MutexLock lock(&mu_);
          if (!obj_rv.empty()) last_rv_ = obj_rv;
          return true;
        }
        Normalize(&obj);
        std::string key = KeyOf(obj);
        std::vector<Event> events;
        {
          absl::MutexLock lock(&mu_);
          if (!obj_rv.empty()) last_rv_ = obj_rv;
          auto it = cache_.find(key);
          if (type == "DELETED") {
            if (it != cache_.end()) {
              events.push_back({Event::kDelete, json(), obj});
              cache_.erase(it);
            }
          } else if (type == "ADDED" || type == "MODIFIED") {
            if (it == cache_.end()) {
              events.push_back({Event::kAdd, json(), obj});
              cache_.emplace(key, obj);
            } else {
              events.push_back({Event::kUpdate, it->second, obj});
              it->second = obj;
            }
          } else {
            spdlog::warn("informer {}: unknown watch event type {}", type_.plural, type);
          }
        }
        Dispatch(events);
        return true;
      },
      &cancel_);
  if (cancel_.load()) return absl::CancelledError("stopped");
  if (!s.ok() && StatusCode(s.message()) == 410) expired = true;
  if (expired) {
    spdlog::info("informer {}: resourceVersion {} expired (410); relisting", type_.plural,
                 LastResourceVersion());
    absl::MutexLock lock(&mu_);
    state_ = State::kRelist;
    next_attempt_ = clock_->Now();
    return absl::OutOfRangeError("watch expired");
  }
  if (!s.ok() || !error.empty()) {
    std::string msg = !s.ok() ? std::string(s.message().substr(0, 300)) : error;
    spdlog::warn("informer {}: watch from resourceVersion {} failed: {}", type_.plural, rv, msg);
    Fail();
    return s.ok() ? absl::DataLossError(error) : s;
  }
  if (received == 0 && clock_->Now() - start < absl::Seconds(1)) {
    spdlog::warn("informer {}: very short watch with no events; backing off", type_.plural);
    Fail();
    return absl::UnavailableError("very short watch");
  }
  spdlog::debug("informer {}: watch ended after {} events; re-watching", type_.plural, received);
  absl::MutexLock lock(&mu_);
  next_attempt_ = clock_->Now();
  return absl::OkStatus();
}

void Informer::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      while (!stopping_ && clock_->Now() < next_attempt_) {
        mu_.AwaitWithTimeout(absl::Condition(&stop),
                             std::min(absl::Milliseconds(200), next_attempt_ - clock_->Now()));
      }
      if (stopping_) return;
    }
    (void)Step();
  }
}

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

Informer* InformerFactory::For(const ResourceType& type) {
  absl::MutexLock lock(&mu_);
  std::string key = absl::StrCat(type.api_version, "/", type.plural);
  auto& slot = informers_[key];
  if (!slot) slot = std::make_unique<Informer>(type, client_, clock_, options_);
  return slot.get();
}

void InformerFactory::Start() {
  absl::MutexLock lock(&mu_);
  for (auto& [k, inf] : informers_) inf->Start();
}

void InformerFactory::Stop() {
  absl::MutexLock lock(&mu_);
  for (auto& [k, inf] : informers_) inf->Stop();
}

bool InformerFactory::AllSynced() const {
  absl::MutexLock lock(&mu_);
  for (const auto& [k, inf] : informers_) {
    if (!inf->HasSynced()) return false;
  }
  return true;
}

}  // namespace meshd::kube
