#pragma once
// For the HTTPS tests of the client (direct and through proxies): a self-signed certificate made at
// run time and a one-purpose TLS server on 127.0.0.1.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <mutex>
#include <string>
#include <thread>

#include "http/client.hpp"

namespace igb::http::test {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 certificate for `san` (e.g. "DNS:localhost,IP:127.0.0.1").
inline TestCert make_cert(const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("igb test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] :
       {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return s;
  };
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCert out{to_string(cb), to_string(kb)};
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// Answers every request on every connection with 200 "secure"; records the SNI it was sent.
class TlsServer {
 public:
  explicit TlsServer(const TestCert& cert) {
    ctx_.use_certificate_chain(net::buffer(cert.cert_pem));
    ctx_.use_private_key(net::buffer(cert.key_pem), net::ssl::context::pem);
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    net::co_spawn(io_, accept_loop(this), [](std::exception_ptr) {});
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsServer() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string sni() {
    std::lock_guard lock(mutex_);
    return sni_;
  }

 private:
  static net::awaitable<void> accept_loop(TlsServer* self) {
    for (;;) {
      auto socket = co_await self->acceptor_.async_accept(net::use_awaitable);
      net::co_spawn(self->io_, serve(self, std::move(socket)), [](std::exception_ptr) {});
    }
  }
  static net::awaitable<void> serve(TlsServer* self, net::ip::tcp::socket socket) {
    boost::beast::ssl_stream<net::ip::tcp::socket> stream(std::move(socket), self->ctx_);
    co_await stream.async_handshake(net::ssl::stream_base::server, net::use_awaitable);
    if (const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
      std::lock_guard lock(self->mutex_);
      self->sni_ = name;
    }
    boost::beast::flat_buffer buffer;
    for (;;) {
      boost::beast::http::request<boost::beast::http::string_body> req;
      co_await boost::beast::http::async_read(stream, buffer, req, net::use_awaitable);
      boost::beast::http::response<boost::beast::http::string_body> res{boost::beast::http::status::ok, 11};
      res.body() = "secure";
      res.prepare_payload();
      co_await boost::beast::http::async_write(stream, res, net::use_awaitable);
    }
  }

  net::io_context io_;
  net::ssl::context ctx_{net::ssl::context::tls_server};
  net::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::string sni_;
};

}  // namespace igb::http::test
