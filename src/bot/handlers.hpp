#pragma once
#include "bot/router.hpp"

namespace igb::bot {

// Registers every handler of src/bot/handlers/ (in file name order; a command's place in the menu
// is its menu_rank, not this order).
void register_handlers(Router& r);

}  // namespace igb::bot
