-- Who stopped a Stars subscription's renewal (core::RenewalStop): 'bot' (the bot's button or DELETE
-- /v1/subscription: editUserStarSubscription), 'user' (in Telegram, told by Update.subscription) or
-- 'failed' (the renewal payment failed); NULL while it renews, and for periods stopped before this
-- migration (who stopped those is unknown). Telegram lets a bot re-enable only what the bot cancelled.
ALTER TABLE subscriptions ADD COLUMN renewal_stopped_by TEXT;
