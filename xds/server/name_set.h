// Interned subscription name sets. Thousands of sidecars of one view subscribe to the same
// thousand-odd EDS/RDS names; each stream keeping its own copy was most of meshd's memory per
// Envoy proxy. A NameSet is immutable and shared by every stream whose subscription has the
// same content; it lives while some stream holds it. Thread-safe.
#pragma once

#include <memory>
#include <set>
#include <string>

namespace meshd::xds {

using NameSet = std::shared_ptr<const std::set<std::string>>;

// The shared set equal to `names` (a new one if no live set has that content).
NameSet InternNames(std::set<std::string> names);

// The shared empty set.
const NameSet& EmptyNames();

// Distinct live sets in the table (for tests and /debug).
size_t InternedNameSets();

}  // namespace meshd::xds
