#include "controller/store.h"

#include <catch2/catch.hpp>

namespace meshd {
namespace {

model::ConfigPtr Cfg(const std::string& name, uint64_t hash) {
  auto c = std::make_shared<model::Config>();
  c->key = {model::Kind::kDestinationRule, "default", name};
  c->content_hash = hash;
  return c;
}

TEST_CASE("ReplaceSource yields exactly the changed keys", "[store]") {
  ConfigStore store;
  CHECK(store.ReplaceSource("file", {Cfg("a", 1), Cfg("b", 1)}).size() == 2);
  auto changed = store.ReplaceSource("file", {Cfg("a", 1), Cfg("b", 2), Cfg("c", 1)});
  CHECK(changed == std::set<model::ConfigKey>{Cfg("b", 0)->key, Cfg("c", 0)->key});
  changed = store.ReplaceSource("file", {Cfg("a", 1)});
  CHECK(changed.size() == 2);  // b and c removed
  CHECK(store.ReplaceSource("file", {Cfg("a", 1)}).empty());
}

TEST_CASE("sources merge; the first source wins a shared key", "[store]") {
  ConfigStore store;
  store.ReplaceSource("kube", {Cfg("a", 2)});
  CHECK(store.Upsert("file", Cfg("a", 1)).size() == 1);
  CHECK(store.Merged().at(Cfg("a", 0)->key)->content_hash == 1);
  CHECK(store.Upsert("kube", Cfg("a", 3)).empty());  // shadowed by "file"
  CHECK(store.Delete("file", Cfg("a", 0)->key).size() == 1);
  CHECK(store.Merged().at(Cfg("a", 0)->key)->content_hash == 3);
}

TEST_CASE("ReplaceSource of a shadowed source changes nothing until the shadow goes", "[store]") {
  ConfigStore store;
  store.ReplaceSource("file", {Cfg("a", 1)});
  store.ReplaceSource("kube", {Cfg("a", 2), Cfg("b", 1)});
  CHECK(store.ReplaceSource("kube", {Cfg("a", 5), Cfg("b", 1)}).empty());  // "file" wins a
  CHECK(store.ReplaceSource("file", {}) == std::set<model::ConfigKey>{Cfg("a", 0)->key});
  CHECK(store.Merged().at(Cfg("a", 0)->key)->content_hash == 5);
  // The same content under a new object is no change.
  CHECK(store.ReplaceSource("kube", {Cfg("a", 5), Cfg("b", 1)}).empty());
}

}  // namespace
}  // namespace meshd
