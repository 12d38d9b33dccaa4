#include "controller/model/proxy.h"

#include "absl/strings/str_split.h"

namespace meshd::model {

void ParseNodeId(absl::string_view id, Proxy* proxy) {
  std::string copy(id);  // `id` may view proxy->id itself
  proxy->id = copy;
  std::vector<std::string> parts = absl::StrSplit(copy, '~');
  if (parts.size() != 4) return;
  proxy->type = parts[0];
  proxy->ip = parts[1];
  std::vector<std::string> pod = absl::StrSplit(parts[2], absl::MaxSplits('.', 1));
  proxy->pod_name = pod[0];
  if (pod.size() == 2) proxy->ns = pod[1];
  // "<ns>.svc.<domain>"
  std::vector<std::string> dns = absl::StrSplit(parts[3], absl::MaxSplits('.', 2));
  if (dns.size() == 3 && dns[1] == "svc") {
    if (proxy->ns.empty()) proxy->ns = dns[0];
    proxy->dns_domain = dns[2];
  }
}

}  // namespace meshd::model
