/// How the local servers end a conversation after refusing it.
#pragma once

#include "transport/stream.hpp"

namespace hc::app {

/// FIN, then a short bounded drain of what the client still sends, then the close. Closing with
/// unread request bytes would send a reset rather than a FIN, and a reset can destroy the refusal
/// before the client reads it.
awaitable<void> close_after_answer(transport::Stream& stream);

}  // namespace hc::app
