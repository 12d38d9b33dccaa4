#include "ca/rotation.h"

#include <catch2/catch.hpp>

namespace meshd::ca {
namespace {

TEST_CASE("RotationTime leaves grace_fraction of the lifetime", "[ca][rotation]") {
  absl::Time start = absl::FromUnixSeconds(1000000);
  absl::Time end = start + absl::Hours(100);
  CHECK(RotationTime(start, end, 0.2) == start + absl::Hours(80));
  CHECK(RotationTime(start, end, 0.5) == start + absl::Hours(50));
  CHECK(RotationTime(start, end, 0.0) == end);
  CHECK(RotationTime(start, end, 1.0) == start);
  CHECK(RotationTime(start, end, -3) == end);   // clamped
  CHECK(RotationTime(start, end, 7) == start);  // clamped
}

}  // namespace
}  // namespace meshd::ca
