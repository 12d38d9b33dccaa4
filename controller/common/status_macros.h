// Status propagation helpers for absl::Status / absl::StatusOr. Thread-safe (stateless).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MESHD_CONCAT_INNER(a, b) a##b
#define MESHD_CONCAT(a, b) MESHD_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` yields a non-OK absl::Status.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::absl::Status _meshd_status = (expr);         \
    if (!_meshd_status.ok()) return _meshd_status; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MaybeX());` binds the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  MESHD_ASSIGN_OR_RETURN_IMPL(MESHD_CONCAT(_meshd_statusor_, __LINE__), lhs, expr)
#define MESHD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
