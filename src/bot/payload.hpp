#pragma once
// Invoice payloads are the Stars billing's (billing/payload.hpp); the bot's names for them.
#include "billing/payload.hpp"

namespace igb::bot {

using billing::InvoicePayload;
using billing::sign_payload;
using billing::verify_payload;

}  // namespace igb::bot
