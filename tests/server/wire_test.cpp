// The server's pure parts: wire format helpers, the route table, Response helpers.
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <stdexcept>
#include <string>

#include "server/wire.hpp"

namespace igb::server {
namespace {

namespace net = boost::asio;

TEST(Wire, Utf8) {
  EXPECT_TRUE(wire::valid_utf8("plain ascii"));
  EXPECT_TRUE(wire::valid_utf8("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // été € 😀
  EXPECT_FALSE(wire::valid_utf8("\xFF"));
  EXPECT_FALSE(wire::valid_utf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(wire::valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(wire::valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(wire::valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(wire::valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(wire::valid_utf8("\xE2\x82"));          // truncated
}

TEST(Wire, DecodeTarget) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(wire::decode_target("/v1/a%20b/%C3%A9?x=1&q=a%20b&q=c+d&flag", path, query));
  EXPECT_EQ(path, "/v1/a b/\xC3\xA9");
  EXPECT_EQ(query.at("x"), "1");
  EXPECT_EQ(query.at("q"), "c d");  // the last one wins, '+' is a space
  EXPECT_EQ(query.at("flag"), "");
  ASSERT_TRUE(wire::decode_target("http://example.com/p?x=2", path, query));
  EXPECT_EQ(path, "/p");
  EXPECT_EQ(query.at("x"), "2");
  EXPECT_FALSE(wire::decode_target("/a%zz", path, query));
  EXPECT_FALSE(wire::decode_target("/a%2", path, query));
  EXPECT_FALSE(wire::decode_target("/a%FF", path, query));
  EXPECT_FALSE(wire::decode_target("/a%00b", path, query));
  EXPECT_FALSE(wire::decode_target("/a?q=%C3%28", path, query));
  EXPECT_FALSE(wire::decode_target("/a?%FF=1", path, query));
  EXPECT_FALSE(wire::decode_target("*", path, query));
  EXPECT_FALSE(wire::decode_target("/a b", path, query));     // not a URI: RFC 3986 is applied strictly
  EXPECT_FALSE(wire::decode_target("/a#frag", path, query));  // fragments are never sent
  ASSERT_TRUE(wire::decode_target("/a%2Fb", path, query));    // an encoded slash separates segments too
  EXPECT_EQ(path, "/a/b");
  EXPECT_FALSE(wire::decode_target("", path, query));
}

TEST(Wire, SseFraming) {
  std::string out;
  wire::append_sse_event(out, "progress", "a\nb\r\nc\rd", "7");
  EXPECT_EQ(out, "id: 7\nevent: progress\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  out.clear();
  wire::append_sse_event(out, "", "", "");
  EXPECT_EQ(out, "data: \n\n");
  out.clear();
  wire::append_sse_event(out, "ev\nil", "x", "1\r2");  // CR/LF cannot break out of a field
  EXPECT_EQ(out, "id: 12\nevent: evil\ndata: x\n\n");
  out.clear();
  wire::append_sse_comment(out, "ping");
  EXPECT_EQ(out, ": ping\n\n");
}

TEST(Wire, HttpDate) {
  auto date = wire::http_date();
  ASSERT_EQ(date.size(), 29u) << date;
  EXPECT_EQ(date.substr(25), " GMT");
  EXPECT_EQ(date[3], ',');
}

net::awaitable<Response> text_handler(Request&) { co_return Response{.body = "x"}; }

TEST(RouteTableTest, LiteralBeatsParamAndParamsAreExtracted) {
  RouteTable t;
  t.add("GET", "/v1/status/{id}", text_handler);
  t.add("GET", "/v1/status/x", text_handler);
  t.add("GET", "/v1/{a}/y/{b}", text_handler);
  t.add("GET", "/v1/x/{c}/z", text_handler);

  auto m = t.match("GET", "/v1/status/x");
  EXPECT_EQ(m.pattern, "/v1/status/x");
  EXPECT_TRUE(m.params.empty());
  m = t.match("GET", "/v1/status/abc");
  EXPECT_EQ(m.pattern, "/v1/status/{id}");
  EXPECT_EQ(m.params.at("id"), "abc");
  // Both match "/v1/x/y/z": the one literal at the first differing segment wins.
  m = t.match("GET", "/v1/x/y/z");
  EXPECT_EQ(m.pattern, "/v1/x/{c}/z");
  EXPECT_EQ(m.params.at("c"), "y");

  EXPECT_EQ(t.match("GET", "/v1/status/").pattern, "");  // a parameter is never empty
  EXPECT_EQ(t.match("GET", "/v1/status/x/").pattern, "");  // trailing slash: another path
  EXPECT_EQ(t.match("GET", "/v1/status").pattern, "");
  EXPECT_EQ(t.match("GET", "").pattern, "");
}

TEST(RouteTableTest, MethodsAndAllow) {
  RouteTable t;
  t.add("GET", "/things/{id}", text_handler);
  t.add("PUT", "/things/{id}", text_handler);
  t.add("POST", "/things", text_handler);
  auto m = t.match("DELETE", "/things/1");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.pattern, "/things/{id}");
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "HEAD", "PUT"}));
  EXPECT_NE(t.match("HEAD", "/things/1").handler, nullptr);  // served by GET
  m = t.match("GET", "/nothing");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.allowed.empty());
  EXPECT_EQ(t.routes().size(), 3u);
}

TEST(RouteTableTest, RejectsDuplicatesAndBadPatterns) {
  RouteTable t;
  t.add("GET", "/a/{id}", text_handler);
  EXPECT_THROW(t.add("GET", "/a/{id}", text_handler), std::invalid_argument);
  EXPECT_THROW(t.add("POST", "/a/{other}", text_handler), std::invalid_argument);  // ambiguous
  EXPECT_THROW(t.add("GET", "no-slash", text_handler), std::invalid_argument);
  EXPECT_THROW(t.add("GET", "/a/{}", text_handler), std::invalid_argument);
  EXPECT_THROW(t.add("GET", "/a/{x}.json", text_handler), std::invalid_argument);
  EXPECT_THROW(t.add("GET", "/b/{x}/{x}", text_handler), std::invalid_argument);
  EXPECT_NO_THROW(t.add("POST", "/a/{id}", text_handler));
}

TEST(ResponseTest, ProblemEscapesAndKeepsExtraMembers) {
  auto r = Response::problem(422, "Bad \"input\"\n", "line\\two \x01", R"("errors":[{"loc":["body","n"]}])");
  EXPECT_EQ(r.status, 422);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "application/problem+json");
  auto v = boost::json::parse(r.body).as_object();
  EXPECT_EQ(v.at("type").as_string(), "about:blank");
  EXPECT_EQ(v.at("title").as_string(), "Bad \"input\"\n");
  EXPECT_EQ(v.at("detail").as_string(), "line\\two \x01");
  EXPECT_EQ(v.at("status").as_int64(), 422);
  EXPECT_EQ(v.at("errors").as_array().size(), 1u);

  auto typed = Response::problem(402, "Pay", "quota", R"("type":"https://example.com/quota")");
  auto t = boost::json::parse(typed.body).as_object();
  EXPECT_EQ(t.at("type").as_string(), "https://example.com/quota");
  EXPECT_EQ(t.size(), 4u);

  auto j = Response::json(201, R"({"ok":true})");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(j.headers.at(0).second, "application/json");
}

TEST(WireTest, RequestIds) {
  EXPECT_TRUE(wire::valid_request_id("a"));
  EXPECT_TRUE(wire::valid_request_id("Abc-123_x.Y"));
  EXPECT_TRUE(wire::valid_request_id(std::string(64, '9')));
  EXPECT_FALSE(wire::valid_request_id(""));
  EXPECT_FALSE(wire::valid_request_id(std::string(65, '9')));
  for (std::string_view bad : {"a b", "a;b", "a\"b", "a/b", "a\r\nb", "\xc3\xa9"})
    EXPECT_FALSE(wire::valid_request_id(bad)) << bad;

  std::string a, b;
  wire::new_request_id(a);
  wire::new_request_id(b);
  EXPECT_NE(a, b);
  EXPECT_TRUE(wire::valid_request_id(a)) << a;
  EXPECT_EQ(a.substr(0, 13), b.substr(0, 13)) << "one random prefix per process";
}

TEST(WireTest, AddJsonMember) {
  std::string body = R"({"title":"x"})";
  ASSERT_TRUE(wire::add_json_member(body, "request_id", "r\"1\\\n"));
  auto v = boost::json::parse(body).as_object();
  EXPECT_EQ(v.at("title").as_string(), "x");
  EXPECT_EQ(v.at("request_id").as_string(), "r\"1\\\n");
  std::string empty = "{}";
  ASSERT_TRUE(wire::add_json_member(empty, "a", "b"));
  EXPECT_EQ(empty, R"({"a":"b"})");
  std::string not_object = "[1]";
  EXPECT_FALSE(wire::add_json_member(not_object, "a", "b"));
  EXPECT_EQ(not_object, "[1]");
}

}  // namespace
}  // namespace igb::server
