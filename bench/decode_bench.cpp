// How much memory one imaging::inspect() call takes at its peak, per format, in a child process of its
// own (the peak RSS is reset through /proc/self/clear_refs, then read from VmHWM after the call). The
// previous WebP check (a full RGBA decode, what inspect() did before issue 15) is measured alongside.
//   imggenbot-bench-decode [--side 4096] [--markdown]
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <webp/decode.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "report.hpp"
#include "imaging/decode.hpp"
#include "support/test_image.hpp"

namespace {

using namespace igb;

// Peak RSS growth in KiB while `work` runs, measured in a forked child; -1 if the work failed.
long peak_kib(const std::function<bool()>& work) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::ofstream("/proc/self/clear_refs") << "5";  // VmHWM := VmRSS
    const long before = bench::proc_status(::getpid())["VmHWM"];
    const bool ok = work();
    const long grown = bench::proc_status(::getpid())["VmHWM"] - before;
    const std::string out = std::to_string(ok ? grown : -1);
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buffer[32] = {};
  const auto n = ::read(fds[0], buffer, sizeof buffer - 1);
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return n > 0 ? std::atol(buffer) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"peak memory of one image inspection per format"};
  int side = 4096;
  bool markdown = false;
  app.add_option("--side", side, "width and height of the test images");
  app.add_flag("--markdown", markdown, "print a markdown table");
  CLI11_PARSE(app, argc, argv);

  struct Case {
    std::string name;
    std::string bytes;
  };
  std::vector<Case> cases;
  cases.push_back({"PNG", imaging::make_png(side, side)});
  cases.push_back({"JPEG (baseline)", imaging::make_jpeg(side, side)});
  cases.push_back({"WebP lossy", imaging::make_webp(side, side)});
  cases.push_back({"WebP lossy + alpha", imaging::make_webp_with_alpha(side, side, 0, imaging::WebPKind::lossy)});
  cases.push_back({"WebP lossless", imaging::make_webp_with_alpha(side, side, 0, imaging::WebPKind::lossless)});

  std::vector<std::vector<std::string>> rows;
  const std::string size = std::to_string(side) + "x" + std::to_string(side);
  auto row = [&](const std::string& what, const std::string& bytes, const std::function<bool()>& work) {
    const long kib = peak_kib(work);
    rows.push_back({what, size, std::to_string(bytes.size() / 1024) + " KiB",
                    kib < 0 ? "failed" : std::to_string((kib + 512) / 1024) + " MiB"});
  };
  for (const auto& c : cases) {
    row(c.name + ": inspect()", c.bytes, [&] { return imaging::inspect(c.bytes).ok(); });
    if (c.name.starts_with("WebP")) {
      row(c.name + ": full RGBA decode (before)", c.bytes, [&] {
        int w = 0, h = 0;
        auto* rgba = WebPDecodeRGBA(reinterpret_cast<const std::uint8_t*>(c.bytes.data()), c.bytes.size(), &w, &h);
        WebPFree(rgba);
        return rgba != nullptr;
      });
    }
  }
  bench::print_table(markdown, {"decode", "image", "file", "peak RSS growth"}, rows);
  return 0;
}
