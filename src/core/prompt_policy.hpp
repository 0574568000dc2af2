#pragma once
// The prompt policy (issue 17): blocklists of terms, matched on a normalised prompt before anything
// is queued, so a blocked prompt never reaches a provider. Two levels: `base` (private chats, inline
// mode, the HTTP API) and `strict` (a group chat with safe mode on: the base list and the group list).
// Pure logic; the lists' text comes from the caller (built in from `policy/`, or PROMPT_POLICY_DIR).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace igb::core {

enum class PolicyLevel { base, strict };

// The words of `text` as the blocklists see them (docs/security.md, "Prompt policy"):
// - case folded (Latin, Cyrillic, Greek; fullwidth, circled and mathematical letters read as Latin),
//   diacritics and combining marks dropped (ё is е, é is e), invisible characters (zero-width, soft
//   hyphen) dropped;
// - look-alikes mapped to one skeleton letter: Cyrillic а е о р с у х к м т н в і ѕ ј and some Greek
//   to their Latin twins; digits and symbols used for letters (0 o, 1 i, 3 e, 4 a, 5 s, 7 t, @ a,
//   $ s, ! i, | i); l is read as i (1 stands for both);
// - words are runs of letters; anything else separates them.
// The result is UTF-8: Cyrillic letters without a Latin twin stay Cyrillic.
std::vector<std::string> normalised_words(std::string_view text);
// The words joined by one space.
std::string normalise(std::string_view text);

struct PolicyHit {
  std::string term;   // the blocklist line that matched (for the log and the admins, not the user)
  std::string list;   // the file it came from, e.g. "blocklist.en.txt"
  PolicyLevel level = PolicyLevel::base;  // base: blocked everywhere; strict: only under safe mode
};

// A blocklist file: its name (for errors and hits) and its text.
struct PolicyList {
  std::string name;
  std::string text;
};

class PromptPolicy {
 public:
  // Lists: one term per line; `#` starts a comment; blank lines are skipped. A term is one or more
  // words, normalised like a prompt; a trailing `*` makes its last word a prefix ("porn*" also takes
  // "porno"). A term matches whole words only ("sex" blocks "s.e.x" but not "Sussex"), with any
  // letter repeated ("seeex"), and across separators put inside a word ("n.u.d.e", "n u d e",
  // "nu-de"). Errors: a term with no letters, more than kMaxTermWords words, or a list too large.
  [[nodiscard]] static Result<PromptPolicy> parse(std::span<const PolicyList> base, std::span<const PolicyList> strict);
  // The lists built into the binary (the repository's policy/ folder).
  static std::shared_ptr<const PromptPolicy> builtin();
  // The built-in lists' files, for `imggenbot` to show and for tests.
  static std::span<const PolicyList> builtin_lists(PolicyLevel level);

  // The first term of `level`'s lists that `prompt` contains, if any. Linear in the prompt's length
  // (times the number of prefix terms, which are few).
  std::optional<PolicyHit> check(std::string_view prompt, PolicyLevel level) const;
  std::size_t terms(PolicyLevel level) const;

  static constexpr std::size_t kMaxTermWords = 4;
  static constexpr std::size_t kMaxTerms = 10000;

  struct Term;

 private:
  std::shared_ptr<const std::vector<Term>> terms_;  // shared: a policy is read by every submit
};

// The field error of a blocked prompt (an invalid_argument Error with this type on "prompt"); the
// API answers it as a 422, the bot words it in the user's language.
// A term of the group lists (safe mode) has the type kPromptBlockedType + ".safe_mode".
inline constexpr std::string_view kPromptBlockedType = "value_error.prompt_blocked";
Error prompt_blocked_error(const PolicyHit& hit);
// Whether `e` is the refusal of a blocked prompt; of one that only safe mode blocks.
bool is_prompt_blocked(const Error& e);
bool is_blocked_by_safe_mode(const Error& e);

}  // namespace igb::core
