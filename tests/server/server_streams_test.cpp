// The server: Server-Sent Events, and streams ending with their client.
#include "server_fixture.hpp"

namespace igb::server {
namespace {

TEST_P(ServerTest, ServerSentEvents) {
  start();
  auto r = get("/events");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_EQ(r.body,
            "id: 1\nevent: progress\ndata: 10\n\n"
            "id: 2\nevent: progress\ndata: line one\ndata: line two\n\n"
            ": ping\n\n"
            "id: 3\nevent: done\ndata: {\"ok\":true}\n\n");
  auto records = wait_for_records(1);
  EXPECT_EQ(records[0].route, "/events");
  EXPECT_EQ(records[0].status, 200);
}

TEST_P(ServerTest, StreamSendReturnsFalseOnceTheClientIsGone) {
  start();
  Raw raw(server_->port());
  raw.write("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = raw.read_until("data: 0\n\n");
  EXPECT_NE(first.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
  EXPECT_NE(first.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(first.find("event: tick\ndata: 0\n\n"), std::string::npos);
  raw.close();
  auto ended = state_->forever_ended.get_future();
  EXPECT_TRUE(wait(ended));
}

// A stream that has nothing to say for a long time ends as soon as its client closes, not at its
// next write (which might be minutes away, holding a connection and whatever the producer holds).
TEST_P(ServerTest, AQuietStreamEndsWhenItsClientCloses) {
  start();
  Raw raw(server_->port());
  raw.write("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = raw.read_until("data: 1\n\n");
  EXPECT_NE(first.find("event: hello"), std::string::npos);
  raw.close();
  auto ended = state_->quiet_ended.get_future();
  wait(ended);  // throws (the hang guard) if the producer were left waiting
  auto records = wait_for_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].route, "/quiet");
  EXPECT_EQ(records[0].status, 200);
}

}  // namespace
}  // namespace igb::server
