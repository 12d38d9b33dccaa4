#include "xds/server/ack.h"

namespace meshd::xds {

Decision Classify(const RequestView& request, const TypeView& state) {
  Decision d;
  d.names_changed = !state.sent || request.names != *state.names;
  if (!state.sent || request.nonce.empty()) {
    d.kind = RequestKind::kSubscribe;
    d.respond = true;
    return d;
  }
  if (request.nonce != state.last_nonce) {
    d.kind = RequestKind::kStale;
    d.respond = d.names_changed;
    return d;
  }
  d.kind = request.has_error ? RequestKind::kNack : RequestKind::kAck;
  d.respond = d.names_changed;
  return d;
}

const char* RequestKindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kSubscribe:
      return "subscribe";
    case RequestKind::kAck:
      return "ack";
    case RequestKind::kNack:
      return "nack";
    case RequestKind::kStale:
      return "stale";
  }
  return "?";
}

}  // namespace meshd::xds
