// Telegram Stars in the bot, end to end (the fixture of dialogue_test.cpp): plans, invoices,
// pre-checkout answers, the payment credited once, renewals, refunds, a banned buyer, a payment while
// the chat is busy, and selling with no payment secret configured.
#include <boost/json/serialize.hpp>

#include "bot/payload.hpp"
#include "bot_fixture.hpp"

namespace igb::testing {
namespace {

class BotPayments : public BotDialogue {};

TEST_P(BotPayments, BuyingASubscriptionCreditsOnceRenewsAndRefunds) {
  tg_.push_message({.from = kAnn, .text = "/plans"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "buy:basic"});
  ASSERT_TRUE(wait([&] { return count("createInvoiceLink") == 1 && count("sendMessage") == 2; }));
  auto invoice = tg_.calls("createInvoiceLink").at(0).params;
  EXPECT_EQ(invoice.at("currency").as_string(), "XTR");
  EXPECT_EQ(invoice.at("subscription_period").as_int64(), 2592000);
  ASSERT_EQ(invoice.at("prices").as_array().size(), 1u);
  EXPECT_EQ(invoice.at("prices").as_array()[0].at("amount").as_int64(), 150);
  EXPECT_TRUE(!invoice.contains("provider_token") || invoice.at("provider_token").as_string().empty());
  std::string payload(invoice.at("payload").as_string());
  EXPECT_LE(payload.size(), 128u);
  EXPECT_FALSE(tg_.last_bot_message(kAnn.id)->reply_markup.is_null());  // the pay button

  // Pre-checkout: answered ok only for the right user, plan, currency and amount.
  auto answers = [&] { return tg_.calls("answerPreCheckoutQuery"); };
  tg_.push_pre_checkout({.from = kBoris, .total_amount = 150, .invoice_payload = payload});  // not his invoice
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 1, .invoice_payload = payload});      // wrong amount
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 150, .invoice_payload = payload + "x"});  // forged
  tg_.push_pre_checkout({.from = kAnn, .currency = "USD", .total_amount = 150, .invoice_payload = payload});
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 150, .invoice_payload = payload});
  ASSERT_TRUE(wait([&] { return answers().size() == 5; }));
  std::map<std::string, bool> ok_by_id;
  for (const auto& a : answers()) {
    ok_by_id[std::string(a.params.at("pre_checkout_query_id").as_string())] = a.params.at("ok").as_bool();
    if (!a.params.at("ok").as_bool()) {
      EXPECT_FALSE(a.params.at("error_message").as_string().empty());
    }
  }
  EXPECT_EQ(ok_by_id, (std::map<std::string, bool>{
                          {"pcq-1", false}, {"pcq-2", false}, {"pcq-3", false}, {"pcq-4", false}, {"pcq-5", true}}));

  // The payment, delivered twice: credited once.
  const auto expires = core::to_unix_ms(clock_.now()) / 1000 + 2592000;
  FakeTgPushPayment paid{.from = kAnn,
                         .total_amount = 150,
                         .invoice_payload = payload,
                         .telegram_payment_charge_id = "stxCharge1",
                         .subscription_expiration_date = expires,
                         .is_recurring = true,
                         .is_first_recurring = true};
  tg_.push_successful_payment(paid);
  tg_.push_successful_payment(paid);
  ASSERT_TRUE(wait([&] { return tg_.pending_update_count() == 0 && count("sendMessage") == 3; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(count("sendMessage"), 3u);
  EXPECT_NE(tg_.last_bot_message(kAnn.id)->text.find("Basic is active"), std::string::npos);
  auto q = quota_->status(kAnn.id);
  EXPECT_EQ(q.plan.id, "basic");
  EXPECT_EQ(q.limit, 300);
  auto first_end = q.subscription->period_end;

  // Telegram renews the subscription: another charge extends the period.
  paid.telegram_payment_charge_id = "stxCharge2";
  paid.is_first_recurring = false;
  paid.subscription_expiration_date = expires + 2592000;
  tg_.push_successful_payment(paid);
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 4; }));
  auto subs = [&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->subscriptions_of(kAnn.id);
  };
  ASSERT_EQ(subs().size(), 2u);
  EXPECT_GT(subs()[0].period_end, first_end);

  // A refund of the renewal takes back what it bought.
  boost::json::object refunded{{"currency", "XTR"},
                               {"total_amount", 150},
                               {"invoice_payload", payload},
                               {"telegram_payment_charge_id", "stxCharge2"}};
  tg_.push_raw({{"message", boost::json::object{{"message_id", 900},
                                                {"date", 1767225600},
                                                {"chat", {{"id", kAnn.id}, {"type", "private"}}},
                                                {"from", {{"id", kAnn.id}, {"is_bot", false}, {"first_name", "Ann"}}},
                                                {"refunded_payment", refunded}}}});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 5; }));
  EXPECT_NE(tg_.last_bot_message(kAnn.id)->text.find("refunded"), std::string::npos);
  EXPECT_EQ(subs()[0].status, core::SubscriptionStatus::refunded);
}

// The operator raises the price of a plan between a purchase and its renewal: Telegram charges the
// renewal at the price the subscription was bought at, and it is credited (the signed payload names
// that price). A new purchase pays the new price.
TEST_P(BotPayments, APriceChangeBetweenPurchaseAndRenewalStillCreditsTheRenewal) {
  tg_.push_message({.from = kAnn, .text = "/plans"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "buy:basic"});
  ASSERT_TRUE(wait([&] { return count("createInvoiceLink") == 1 && count("sendMessage") == 2; }));
  std::string payload(tg_.calls("createInvoiceLink").at(0).params.at("payload").as_string());
  const auto expires = core::to_unix_ms(clock_.now()) / 1000 + 2592000;
  FakeTgPushPayment paid{.from = kAnn,
                         .total_amount = 150,
                         .invoice_payload = payload,
                         .telegram_payment_charge_id = "stxPrice1",
                         .subscription_expiration_date = expires,
                         .is_recurring = true,
                         .is_first_recurring = true};
  tg_.push_successful_payment(paid);
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 3; }));

  running_.reset();
  auto dearer = core::default_plans();
  for (auto& p : dearer) {
    if (p.id == "basic") p.price_stars = 250;
  }
  plans_ = core::PlanCatalog::create(std::move(dearer)).value();  // what a restart with a new config reads
  clock_.advance(std::chrono::days(30));
  start();
  paid.telegram_payment_charge_id = "stxPrice2";
  paid.is_first_recurring = false;
  paid.subscription_expiration_date = expires + 2592000;
  tg_.push_successful_payment(paid);
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 4; }));
  EXPECT_THAT(tg_.last_bot_message(kAnn.id)->text, ::testing::HasSubstr("Basic is active"));
  auto subs = [&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->subscriptions_of(kAnn.id);
  };
  ASSERT_EQ(subs().size(), 2u);
  EXPECT_EQ(subs()[0].charge_id, "stxPrice2");
  EXPECT_EQ(quota_->status(kAnn.id).plan.id, "basic");

  // The old invoice at the old price is refused at pre-checkout now; a new one costs 250.
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 150, .invoice_payload = payload});
  ASSERT_TRUE(wait([&] { return count("answerPreCheckoutQuery") == 1; }));
  EXPECT_FALSE(tg_.calls("answerPreCheckoutQuery").at(0).params.at("ok").as_bool());
}

// A banned user is refused at pre-checkout (before Telegram takes the Stars); a payment that arrives
// anyway (a monthly renewal is charged without a pre-checkout) is recorded, so /refund can find it,
// and so is its refund. The banned user is not written to.
TEST_P(BotPayments, PaymentsOfABannedUserReachTheLedger) {
  tg_.push_message({.from = kAnn, .text = "/plans"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "buy:basic"});
  ASSERT_TRUE(wait([&] { return count("createInvoiceLink") == 1 && count("sendMessage") == 2; }));
  std::string payload(tg_.calls("createInvoiceLink").at(0).params.at("payload").as_string());
  ASSERT_TRUE(accounts_->set_banned(kAnn.id, true).ok());

  tg_.push_pre_checkout({.from = kAnn, .total_amount = 150, .invoice_payload = payload});
  ASSERT_TRUE(wait([&] { return count("answerPreCheckoutQuery") == 1; }));
  auto answer = tg_.calls("answerPreCheckoutQuery").at(0).params;
  EXPECT_FALSE(answer.at("ok").as_bool());
  EXPECT_EQ(answer.at("error_message").as_string(), "Your account is blocked.");

  const auto expires = core::to_unix_ms(clock_.now()) / 1000 + 2592000;
  tg_.push_successful_payment({.from = kAnn,
                               .total_amount = 150,
                               .invoice_payload = payload,
                               .telegram_payment_charge_id = "stxBanned1",
                               .subscription_expiration_date = expires,
                               .is_recurring = true,
                               .is_first_recurring = false});
  auto payment = [&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->find_payment("stxBanned1", false);
  };
  ASSERT_TRUE(wait([&] { return payment().has_value(); }));
  EXPECT_EQ(payment()->user_id, kAnn.id);

  boost::json::object refunded{{"currency", "XTR"},
                               {"total_amount", 150},
                               {"invoice_payload", payload},
                               {"telegram_payment_charge_id", "stxBanned1"}};
  tg_.push_raw({{"message", boost::json::object{{"message_id", 901},
                                                {"date", 1767225600},
                                                {"chat", {{"id", kAnn.id}, {"type", "private"}}},
                                                {"from", {{"id", kAnn.id}, {"is_bot", false}, {"first_name", "Ann"}}},
                                                {"refunded_payment", refunded}}}});
  ASSERT_TRUE(wait([&] { return payment()->refunded_at.has_value(); }));
  ASSERT_TRUE(wait([&] { return tg_.pending_update_count() == 0; }));
  EXPECT_EQ(count("sendMessage"), 2u);  // nothing said to the banned user
}

// Telegram gives 10 seconds to answer a pre-checkout query. Ann's chat is busy: the bot's answer to
// /help met a 429 with retry_after 30 and waits it out, and the chat's later updates wait behind it.
// Her payment's pre-checkout does not: it is answered while that 429 still holds the chat (the /help
// is neither sent again nor lost: its update is still in the inbox).
TEST_P(BotPayments, APaymentWhileTheChatIsBusyIsAnsweredAtOnce) {
  tg_.push_message({.from = kAnn, .text = "/plans"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "buy:basic"});
  ASSERT_TRUE(wait([&] { return count("createInvoiceLink") == 1 && count("sendMessage") == 2; }));
  std::string payload(tg_.calls("createInvoiceLink").at(0).params.at("payload").as_string());

  tg_.fail_next("sendMessage", 429, "Too Many Requests: retry after 30", 30);
  const auto help = tg_.push_message({.from = kAnn, .text = "/help"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 3; }));
  ASSERT_EQ(tg_.calls("sendMessage").back().status, 429);
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 150, .invoice_payload = payload});
  ASSERT_TRUE(wait([&] { return count("answerPreCheckoutQuery") == 1; })) << transcript(kAnn.id);
  EXPECT_TRUE(tg_.calls("answerPreCheckoutQuery").at(0).params.at("ok").as_bool());
  EXPECT_EQ(count("sendMessage"), 3u);  // the 429 still holds the chat
  auto waiting = [&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->inbox_updates(0, 10);
  };
  ASSERT_TRUE(eventually([&] { return waiting().size() == 1; }));  // the pre-checkout is done with
  EXPECT_EQ(waiting().at(0).update_id, help);
  auto t = transcript(kAnn.id);
  for (auto at = t.find(payload); at != std::string::npos; at = t.find(payload))
    t.replace(at, payload.size(), "<payload>");
  expect_golden_text("payment_while_busy", t);
}

// Without PAYMENT_PAYLOAD_SECRET selling works: the first start made a random secret and keeps it in
// the database (never in a message or a log); a restart uses the same one, so an invoice made before
// the restart is still accepted at pre-checkout and credited.
TEST_P(BotPayments, APurchaseWithNoPaymentSecretConfigured) {
  running_.reset();
  payload_secret_.clear();
  start();
  auto stored_secret = [&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->get_setting(usecases::kPayloadSecretKey);
  };
  const auto secret = stored_secret();
  ASSERT_TRUE(secret.has_value());
  EXPECT_THAT(*secret, ::testing::MatchesRegex("[0-9a-f]{64}"));  // 32 random bytes

  tg_.push_message({.from = kAnn, .text = "/plans"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "buy:basic"});
  ASSERT_TRUE(wait([&] { return count("createInvoiceLink") == 1 && count("sendMessage") == 2; }));
  std::string payload(tg_.calls("createInvoiceLink").at(0).params.at("payload").as_string());
  auto signed_for = bot::verify_payload(payload, *secret);
  ASSERT_TRUE(signed_for.has_value());
  EXPECT_EQ(signed_for->plan_id, "basic");

  auto inbox_empty = [&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->inbox_updates(0, 10).empty();
  };
  ASSERT_TRUE(eventually(inbox_empty));  // the button press is done with before the restart
  running_.reset();  // a restart: the secret is read back, not made again
  start();
  EXPECT_EQ(stored_secret(), secret);
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 150, .invoice_payload = payload});
  ASSERT_TRUE(wait([&] { return count("answerPreCheckoutQuery") == 1; }));
  EXPECT_TRUE(tg_.calls("answerPreCheckoutQuery").at(0).params.at("ok").as_bool());
  tg_.push_successful_payment({.from = kAnn,
                               .total_amount = 150,
                               .invoice_payload = payload,
                               .telegram_payment_charge_id = "stxNoSecret1",
                               .subscription_expiration_date = core::to_unix_ms(clock_.now()) / 1000 + 2592000,
                               .is_recurring = true,
                               .is_first_recurring = true});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 3; }));
  EXPECT_EQ(quota_->status(kAnn.id).plan.id, "basic");
  for (const auto& call : tg_.calls("sendMessage")) {
    EXPECT_EQ(boost::json::serialize(call.params).find(*secret), std::string::npos);
  }
  auto t = transcript(kAnn.id);  // the payload's nonce and signature differ from run to run
  for (auto at = t.find(payload); at != std::string::npos; at = t.find(payload))
    t.replace(at, payload.size(), "<payload>");
  expect_golden_text("purchase_no_secret", t);
}

IGB_ON_BOTH_DATABASES(BotPayments);

}  // namespace
}  // namespace igb::testing
