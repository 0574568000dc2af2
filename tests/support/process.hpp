#pragma once
// Child processes owned by a test: started with fork/exec, output captured to files, stopped and
// reaped by their pid only.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace igb::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
    std::filesystem::path cwd;               // empty: the test's
  };
  explicit ChildProcess(Options options);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // SIGKILLs and reaps a child still running

  pid_t pid() const { return pid_; }
  void send(int signo);
  bool running();
  // Waits for exit; after `timeout` (a hang guard, not a performance check) it SIGKILLs the child.
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::string out_so_far() const;
  std::string err_so_far() const;
  // Polls the captured stdout+stderr until `needle` appears or the child exits or the guard runs out.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::filesystem::path dir_;
};

// The base URL an `imggenbot` process with the API logged ("HTTP API on http://127.0.0.1:PORT"), or
// "" after a test failure saying there was none.
std::string http_api_base_url(const ChildProcess& process);

// Runs to completion.
ProcessResult run_process(ChildProcess::Options options, std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace igb::testing
