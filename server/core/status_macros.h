// Early-return helpers for absl::Status and absl::StatusOr.
#ifndef ATABLE_SERVER_CORE_STATUS_MACROS_H_
#define ATABLE_SERVER_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the status of `expr` from the enclosing function unless it is OK.
#define ATABLE_RETURN_IF_ERROR(expr)   \
  do {                                 \
    ::absl::Status _atable_st = (expr); \
    if (!_atable_st.ok()) return _atable_st; \
  } while (0)

#define ATABLE_CONCAT_INNER_(a, b) a##b
#define ATABLE_CONCAT_(a, b) ATABLE_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr); returns its status unless OK, else moves its value
// into `lhs` (a declaration such as `auto x` or an existing variable).
#define ATABLE_ASSIGN_OR_RETURN(lhs, rexpr) \
  ATABLE_ASSIGN_OR_RETURN_IMPL_(ATABLE_CONCAT_(_atable_or_, __LINE__), lhs, rexpr)
#define ATABLE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

#endif  // ATABLE_SERVER_CORE_STATUS_MACROS_H_
