// When a certificate should be replaced: once only `grace_fraction` of its lifetime is left
// (istiod rotates its self-signed root at 20% left; workloads renew their leaves similarly).
//
// Thread-safety: stateless; thread-safe.
#pragma once

#include "absl/time/time.h"

namespace meshd::ca {

// not_before + (1 - grace_fraction) * (not_after - not_before). `grace_fraction` is clamped
// to [0, 1]: 0 rotates at expiry, 1 rotates at once.
absl::Time RotationTime(absl::Time not_before, absl::Time not_after, double grace_fraction);

}  // namespace meshd::ca
