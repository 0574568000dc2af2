#pragma once
// What the benchmark programs share for reporting: percentiles, tables as markdown or aligned text,
// and a child process's memory from /proc.
#include <sys/types.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace igb::bench {

// The q-quantile (0..1) of `sorted` by nearest rank; 0 if empty.
inline double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// VmRSS / VmHWM in kB from /proc/<pid>/status; absent if not found (the process is gone).
inline std::map<std::string, long> proc_status(pid_t pid) {
  std::map<std::string, long> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"VmRSS", "VmHWM"}) {
      if (line.starts_with(std::string(key) + ":")) out[key] = std::stol(line.substr(std::string(key).size() + 1));
    }
  }
  return out;
}

// A table printed as markdown or as aligned text.
inline void print_table(bool markdown, const std::vector<std::string>& head,
                        const std::vector<std::vector<std::string>>& rows) {
  if (markdown) {
    std::string line = "|", rule = "|";
    for (std::size_t c = 0; c < head.size(); ++c) {
      line += " " + head[c] + " |";
      rule += c == 0 ? "---|" : "---:|";
    }
    std::printf("%s\n%s\n", line.c_str(), rule.c_str());
    for (const auto& r : rows) {
      line = "|";
      for (const auto& cell : r) line += " " + cell + " |";
      std::printf("%s\n", line.c_str());
    }
    return;
  }
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) width[c] = head[c].size();
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], r[c].size());
  auto print_row = [&](const std::vector<std::string>& r) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      const auto pad = std::string(width[c] - std::min(width[c], r[c].size()), ' ');
      line += c == 0 ? r[c] + pad : "  " + pad + r[c];
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(head);
  for (const auto& r : rows) print_row(r);
}

}  // namespace igb::bench
