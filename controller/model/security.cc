#include "controller/model/security.h"

namespace meshd::model {

const char* ActionName(AuthorizationPolicy::Action action) {
  switch (action) {
    case AuthorizationPolicy::Action::kAllow:
      return "ALLOW";
    case AuthorizationPolicy::Action::kDeny:
      return "DENY";
    case AuthorizationPolicy::Action::kAudit:
      return "AUDIT";
    case AuthorizationPolicy::Action::kCustom:
      return "CUSTOM";
  }
  return "ALLOW";
}

}  // namespace meshd::model
