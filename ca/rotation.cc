#include "ca/rotation.h"

#include <algorithm>

namespace meshd::ca {

absl::Time RotationTime(absl::Time not_before, absl::Time not_after, double grace_fraction) {
  double kept = 1.0 - std::clamp(grace_fraction, 0.0, 1.0);
  return not_before + (not_after - not_before) * kept;
}

}  // namespace meshd::ca
