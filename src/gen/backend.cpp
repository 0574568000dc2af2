#include "gen/backend.hpp"

namespace igb::gen {

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::retry_later: return "retry_later";
    case FailureKind::billing: return "billing";
    case FailureKind::bad_credentials: return "bad_credentials";
    case FailureKind::model_unavailable: return "model_unavailable";
    case FailureKind::invalid_request: return "invalid_request";
    case FailureKind::content_refused: return "content_refused";
    case FailureKind::permanent: return "permanent";
  }
  return "permanent";
}

bool is_retryable(FailureKind kind) {
  // Billing, credentials and model problems are retryable at the job level: the router fails over,
  // and an operator may fix the configuration while the job waits.
  return kind != FailureKind::invalid_request && kind != FailureKind::content_refused && kind != FailureKind::permanent;
}

}  // namespace igb::gen
