// The server: graceful shutdown.
#include "server_fixture.hpp"

namespace igb::server {
namespace {

TEST_P(ServerTest, ShutdownLetsInFlightRequestsFinishAndRefusesNewConnections) {
  start();
  const auto port = server_->port();
  Raw idle(port);  // a kept-alive connection waiting for its next request
  idle.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read().body(), "hello");

  auto entered = state_->slow_entered.get_future();
  auto slow_response = net::co_spawn(client_strand_, send_via(client_.get(), {.url = url("/slow")}), net::use_future);
  wait(entered);

  auto done = net::co_spawn(io_, shutdown_via(server_.get(), 30s), net::use_future);
  // The listener closes at once; keep trying until the connection is refused.
  bool refused = false;
  for (int attempt = 0; attempt < 3000 && !refused; ++attempt) {
    refused = connection_refused(port);
    if (!refused) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(refused);

  // The idle connection is closed without waiting for the slow request.
  error_code end;
  EXPECT_EQ(idle.read_to_end(end), "");

  auto r = wait(slow_response);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_EQ(r.header("connection"), "close");
  wait(done);
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_TRUE(connection_refused(port));
  // A second shutdown completes at once.
  auto again = net::co_spawn(io_, shutdown_via(server_.get(), 30s), net::use_future);
  wait(again);
}

TEST_P(ServerTest, ShutdownTellsStreamsToStop) {
  start();
  Raw raw(server_->port());
  raw.write("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  auto started = state_->forever_started.get_future();
  wait(started);
  auto done = net::co_spawn(io_, shutdown_via(server_.get(), 30s), net::use_future);
  auto ended = state_->forever_ended.get_future();
  EXPECT_TRUE(wait(ended));  // send() returned false: not killed at the end of the grace period
  wait(done);
  error_code end;
  raw.read_to_end(end);
  EXPECT_EQ(end, net::error::eof);
}

TEST_P(ServerTest, ShutdownClosesWhatIsLeftAfterTheGracePeriod) {
  start();
  Raw raw(server_->port());
  raw.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
  auto entered = state_->hang_entered.get_future();
  wait(entered);
  auto done = net::co_spawn(io_, shutdown_via(server_.get(), 50ms), net::use_future);
  wait(done);
  EXPECT_EQ(server_->open_connections(), 0u);
  error_code end;
  EXPECT_EQ(raw.read_to_end(end), "");  // closed without an answer
  auto records = wait_for_records(1);
  EXPECT_EQ(records[0].route, "/hang");
  EXPECT_EQ(records[0].status, 0);
}

}  // namespace
}  // namespace igb::server
