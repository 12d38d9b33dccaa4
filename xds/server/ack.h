// Classification of a State-of-the-World DiscoveryRequest against what was last sent for its
// type: the one pure function that decides ACK, NACK, stale and (re)subscription.
//
//  - No response sent yet for the type, or the request carries no nonce: a subscription
//    (first request, or a client that reconnected or re-requested) → respond.
//  - A nonce other than the last one sent: stale (the client had not seen our newest
//    response yet) → ignore, unless it changes the subscribed names → respond.
//  - The last nonce with error_detail: a NACK → record it, send nothing (unless the names
//    changed too).
//  - The last nonce without error: an ACK → record it; respond only if the names changed.
// Thread-safe (pure).
#pragma once

#include <set>
#include <string>

#include "xds/server/name_set.h"

namespace meshd::xds {

enum class RequestKind { kSubscribe, kAck, kNack, kStale };

struct RequestView {
  std::string nonce;
  bool has_error = false;
  std::set<std::string> names;
};

struct TypeView {
  bool sent = false;             // has any response of this type been sent on the stream?
  std::string last_nonce;        // nonce of the last response sent
  NameSet names = EmptyNames();  // names currently subscribed (shared, not copied per request)
};

struct Decision {
  RequestKind kind;
  bool names_changed = false;
  bool respond = false;
};

Decision Classify(const RequestView& request, const TypeView& state);

const char* RequestKindName(RequestKind kind);

}  // namespace meshd::xds
