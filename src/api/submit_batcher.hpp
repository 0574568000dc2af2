#pragma once
// The group commit now lives with the use cases (the bot submits through it too); the API's name for it.
#include "usecases/submit_batcher.hpp"

namespace igb::api {

using SubmitBatcher = usecases::SubmitBatcher;

}  // namespace igb::api
