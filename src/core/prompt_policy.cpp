#include "core/prompt_policy.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace igb::core {

extern const std::vector<std::pair<std::string_view, std::string_view>> kPolicyFiles;  // embedded_policy.cpp

namespace {

// A hand-written normaliser, not ICU (which Debian has, libicu72): the core includes nothing but
// util, the look-alike and digit mappings and the separator rules are ours either way, and case
// folding and mark stripping for the scripts the lists are written in (Latin, Cyrillic) are the
// small tables below. ICU's skeletons (uspoof_getSkeleton, UTS #39) would map far more, and in ways
// a blocklist writer cannot predict ("m" becomes "rn").
#include "core/prompt_policy_latin.inc"

enum class Kind { drop, separator, space, letter, leet };

struct Mapped {
  Kind kind = Kind::separator;
  char32_t a = 0;
  char32_t b = 0;  // a second letter (ß is ss), or 0
};

constexpr Mapped letter(char32_t a, char32_t b = 0) { return {Kind::letter, a, b}; }

// Look-alikes: the skeleton letter of a lower-case Cyrillic or Greek letter (itself when it has none).
char32_t twin(char32_t c) {
  switch (c) {
    // Cyrillic
    case U'а': return U'a';
    case U'в': return U'b';
    case U'е': return U'e';
    case U'к': return U'k';
    case U'м': return U'm';
    case U'н': return U'h';
    case U'о': return U'o';
    case U'р': return U'p';
    case U'с': return U'c';
    case U'т': return U't';
    case U'у': return U'y';
    case U'х': return U'x';
    case U'і': return U'i';
    case U'ј': return U'j';
    case U'ѕ': return U's';
    case U'ӏ': return U'i';
    case U'ԁ': return U'd';
    case U'ԛ': return U'q';
    case U'ԝ': return U'w';
    // Greek
    case U'α': return U'a';
    case U'β': return U'b';
    case U'ε': return U'e';
    case U'ζ': return U'z';
    case U'η': return U'n';
    case U'ι': return U'i';
    case U'κ': return U'k';
    case U'ν': return U'v';
    case U'ο': return U'o';
    case U'ρ': return U'p';
    case U'τ': return U't';
    case U'υ': return U'u';
    case U'χ': return U'x';
    default: return c;
  }
}

Mapped map_ascii(char32_t c) {
  if (c >= U'A' && c <= U'Z') c += 0x20;
  if (c == U'l') return letter(U'i');  // 1 stands for l and for i: both are read as i
  if (c >= U'a' && c <= U'z') return letter(c);
  switch (c) {
    case U'0': return {Kind::leet, U'o'};
    case U'1': return {Kind::leet, U'i'};
    case U'3': return {Kind::leet, U'e'};
    case U'4': return {Kind::leet, U'a'};
    case U'5': return {Kind::leet, U's'};
    case U'7': return {Kind::leet, U't'};
    case U'@': return {Kind::leet, U'a'};
    case U'$': return {Kind::leet, U's'};
    case U'!':
    case U'|': return {Kind::leet, U'i'};
    case U' ':
    case U'\t':
    case U'\n':
    case U'\r':
    case U'\v':
    case U'\f': return {Kind::space};
    default: return {Kind::separator};
  }
}

bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

bool dropped(char32_t c) {
  return in(c, 0x0300, 0x036F) || in(c, 0x0483, 0x0489) || in(c, 0x1AB0, 0x1AFF) || in(c, 0x1DC0, 0x1DFF) ||
         in(c, 0x20D0, 0x20FF) || in(c, 0xFE00, 0xFE0F) || in(c, 0xFE20, 0xFE2F) || c == 0x00AD || c == 0x034F ||
         c == 0x061C || c == 0x115F || c == 0x1160 || in(c, 0x17B4, 0x17B5) || in(c, 0x180B, 0x180F) ||
         in(c, 0x200B, 0x200F) || in(c, 0x202A, 0x202E) || in(c, 0x2060, 0x206F) || c == 0x3164 || c == 0xFEFF ||
         c == 0xFFA0 || in(c, 0xE0000, 0xE0FFF);
}

bool space(char32_t c) {
  return c == 0x00A0 || c == 0x1680 || in(c, 0x2000, 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

Mapped map_char(char32_t c) {
  if (c < 0x80) return map_ascii(c);
  if (dropped(c)) return {Kind::drop};
  if (space(c)) return {Kind::space};
  if (in(c, 0xFF01, 0xFF5E)) return map_ascii(c - 0xFEE0);  // fullwidth ASCII
  if (in(c, 0x24B6, 0x24CF)) return map_ascii(U'a' + (c - 0x24B6));  // Ⓐ
  if (in(c, 0x24D0, 0x24E9)) return map_ascii(U'a' + (c - 0x24D0));  // ⓐ
  if (in(c, 0x1F1E6, 0x1F1FF)) return map_ascii(U'a' + (c - 0x1F1E6));  // regional indicators 🇦
  if (in(c, 0x1D400, 0x1D6A3)) {  // mathematical letters: 13 alphabets of A–Z a–z (with holes)
    auto i = (c - 0x1D400) % 52;
    return map_ascii(U'a' + (i < 26 ? i : i - 26));
  }
  if (in(c, 0x1D7CE, 0x1D7FF)) return map_ascii(U'0' + (c - 0x1D7CE) % 10);  // mathematical digits
  if (c == 0xD7 || c == 0xF7) return {Kind::separator};
  if (in(c, 0xC0, 0x24F)) {
    auto base = kLatinBase[c - 0xC0];
    if (base.empty()) return letter(c);
    auto first = map_ascii(static_cast<char32_t>(base[0]));
    auto second = base.size() > 1 ? map_ascii(static_cast<char32_t>(base[1])).a : 0;
    return letter(first.a, second);
  }
  if (in(c, 0x80, 0xBF)) return {Kind::separator};
  if (in(c, 0x0370, 0x03FF)) {  // Greek: accents dropped, lower case, look-alikes
    if (in(c, 0x0391, 0x03A9)) c += 0x20;
    switch (c) {
      case 0x0386: c = U'α'; break;
      case 0x0388: c = U'ε'; break;
      case 0x0389: c = U'η'; break;
      case 0x038A: c = U'ι'; break;
      case 0x038C: c = U'ο'; break;
      case 0x038E: c = U'υ'; break;
      case 0x038F: c = U'ω'; break;
      case 0x03AC: c = U'α'; break;
      case 0x03AD: c = U'ε'; break;
      case 0x03AE: c = U'η'; break;
      case 0x03AF: c = U'ι'; break;
      case 0x03CC: c = U'ο'; break;
      case 0x03CD: c = U'υ'; break;
      case 0x03CE: c = U'ω'; break;
      case 0x03C2: c = U'σ'; break;  // final sigma
      default: break;
    }
    if (in(c, 0x03B1, 0x03C9)) return letter(twin(c));
    return in(c, 0x0370, 0x0385) || c == 0x0387 || c == 0x037E ? Mapped{Kind::separator} : letter(c);
  }
  if (in(c, 0x0400, 0x052F)) {  // Cyrillic: lower case, marks dropped (ё is е, й is и), look-alikes
    if (in(c, 0x0410, 0x042F)) c += 0x20;
    if (in(c, 0x0400, 0x040F)) c += 0x50;
    switch (c) {
      case U'ѐ':
      case U'ё': c = U'е'; break;
      case U'ѓ': c = U'г'; break;
      case U'ї': c = U'і'; break;
      case U'ќ': c = U'к'; break;
      case U'ѝ':
      case U'й': c = U'и'; break;
      case U'ў': c = U'у'; break;
      case 0x04C0: c = U'ӏ'; break;
      default:
        if ((in(c, 0x0460, 0x0481) || in(c, 0x048A, 0x04BF) || in(c, 0x04D0, 0x052F)) && c % 2 == 0)
          c += 1;  // upper even
    }
    if (in(c, 0x0482, 0x0489)) return {Kind::separator};
    return letter(twin(c));
  }
  if (in(c, 0x2010, 0x2BFF) || in(c, 0x2E00, 0x2E7F) || in(c, 0x3001, 0x303F) || in(c, 0xFE10, 0xFE1F) ||
      in(c, 0xFE30, 0xFE6F) || in(c, 0xFF00, 0xFF65) || in(c, 0x1F000, 0x1FAFF) || in(c, 0xE000, 0xF8FF) ||
      in(c, 0xFFF0, 0xFFFF)) {
    return {Kind::separator};  // punctuation, symbols, arrows, emoji, private use, specials
  }
  return letter(c);  // other scripts: a letter as it is
}

// The next code point of strict UTF-8 (no overlongs, surrogates or values past U+10FFFF); invalid
// bytes come out as one U+FFFD each, which separates words.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  }
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || in(cp, 0xD800, 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string to_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

// A word of the prompt: its skeleton letters, how many of them at each end came from digits or
// symbols ("nude!" ends in the i of "!"), and whether white space came before it (not just
// punctuation: "nu.de" is one word cut, "nu de" may be two).
struct Token {
  std::u32string text;
  std::size_t leet_front = 0;
  std::size_t leet_back = 0;
  bool space_before = true;

  std::u32string trimmed() const {
    if (leet_front + leet_back >= text.size()) return text;  // all digits and symbols: keep them
    return text.substr(leet_front, text.size() - leet_front - leet_back);
  }
};

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  Token cur;
  bool in_word = false;
  bool all_leet = true;
  bool space_seen = true;
  auto end_word = [&] {
    if (in_word) out.push_back(std::move(cur));
    cur = Token{};
    in_word = false;
    all_leet = true;
  };
  for (std::size_t i = 0; i < text.size();) {
    const Mapped m = map_char(next_code_point(text, i));
    switch (m.kind) {
      case Kind::drop: break;
      case Kind::space:
      case Kind::separator:
        end_word();
        if (m.kind == Kind::space) space_seen = true;
        break;
      case Kind::letter:
      case Kind::leet:
        if (!in_word) {
          cur.space_before = space_seen;
          space_seen = false;
          in_word = true;
        }
        for (char32_t c : {m.a, m.b}) {
          if (c == 0) continue;
          cur.text += c;
          if (m.kind == Kind::leet) {
            if (all_leet) ++cur.leet_front;
            ++cur.leet_back;
          } else {
            all_leet = false;
            cur.leet_back = 0;
          }
        }
        break;
    }
  }
  end_word();
  return out;
}

// A word as runs of one letter: "seeex" is s×1 e×3 x×1.
using Runs = std::vector<std::pair<char32_t, std::size_t>>;

Runs runs_of(const std::u32string& s) {
  Runs out;
  for (char32_t c : s) {
    if (!out.empty() && out.back().first == c) {
      ++out.back().second;
    } else {
      out.emplace_back(c, 1);
    }
  }
  return out;
}

// A candidate word matches a term's word when it has the same letters in the same order, each run
// at least as long as the term's ("seeex" is "sex"; "as" is not "ass"); a prefix word may go on.
bool word_matches(const Runs& word, const Runs& term, bool prefix) {
  if (word.size() < term.size() || (!prefix && word.size() != term.size())) return false;
  for (std::size_t i = 0; i < term.size(); ++i) {
    if (word[i].first != term[i].first || word[i].second < term[i].second) return false;
  }
  return true;
}

}  // namespace

struct PromptPolicy::Term {
  std::vector<Runs> words;  // the normalised words
  Runs glued;               // all words as one ("child porn" written "childporn")
  bool prefix = false;      // the last word (and the glued form) may go on
  std::string shown;        // the line as written
  std::string list;
  PolicyLevel level = PolicyLevel::base;
};

std::vector<std::string> normalised_words(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& t : tokenize(text)) out.push_back(to_utf8(t.text));
  return out;
}

std::string normalise(std::string_view text) {
  std::string out;
  for (const auto& t : tokenize(text)) {
    if (!out.empty()) out += ' ';
    out += to_utf8(t.text);
  }
  return out;
}

Result<PromptPolicy> PromptPolicy::parse(std::span<const PolicyList> base, std::span<const PolicyList> strict) {
  auto terms = std::make_shared<std::vector<Term>>();
  auto read = [&](const PolicyList& list, PolicyLevel level) -> Status {
    std::size_t line_no = 0;
    std::string_view rest = list.text;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      ++line_no;
      if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      if (line.empty()) continue;
      auto where = list.name + ":" + std::to_string(line_no) + ": ";
      Term term{.shown = std::string(line), .list = list.name, .level = level};
      if (line.back() == '*') {
        term.prefix = true;
        line.remove_suffix(1);
      }
      auto tokens = tokenize(line);
      if (tokens.empty()) return make_error(ErrorCode::invalid_argument, where + "a term needs letters");
      if (tokens.size() > kMaxTermWords) {
        return make_error(ErrorCode::invalid_argument,
                          where + "a term has at most " + std::to_string(kMaxTermWords) + " words");
      }
      std::u32string glued;
      for (const auto& t : tokens) {
        term.words.push_back(runs_of(t.text));
        glued += t.text;
      }
      term.glued = runs_of(glued);
      if (terms->size() >= kMaxTerms) {
        return make_error(ErrorCode::invalid_argument, where + "more than " + std::to_string(kMaxTerms) + " terms");
      }
      terms->push_back(std::move(term));
    }
    return Ok{};
  };
  for (const auto& l : base) {
    if (auto s = read(l, PolicyLevel::base); !s) return std::move(s).error();
  }
  for (const auto& l : strict) {
    if (auto s = read(l, PolicyLevel::strict); !s) return std::move(s).error();
  }
  PromptPolicy policy;
  policy.terms_ = std::move(terms);
  return policy;
}

std::size_t PromptPolicy::terms(PolicyLevel level) const {
  if (!terms_) return 0;
  return static_cast<std::size_t>(std::count_if(terms_->begin(), terms_->end(), [&](const Term& t) {
    return level == PolicyLevel::strict || t.level == PolicyLevel::base;
  }));
}

std::optional<PolicyHit> PromptPolicy::check(std::string_view prompt, PolicyLevel level) const {
  if (!terms_ || terms_->empty()) return std::nullopt;
  const auto tokens = tokenize(prompt);
  // The candidate words: each word (and without the digits or symbols at its ends: "nude!"); runs
  // of words cut by punctuation only, glued ("n.u.d.e", "nu-de"); runs of single letters, glued
  // whatever separates them ("n u d e").
  std::vector<Runs> words;  // each token, trimmed, in order (multi-word terms walk these)
  std::vector<Runs> candidates;
  words.reserve(tokens.size());
  for (const auto& t : tokens) {
    words.push_back(runs_of(t.trimmed()));
    candidates.push_back(words.back());
    if (t.trimmed().size() != t.text.size()) candidates.push_back(runs_of(t.text));
  }
  for (std::size_t i = 0; i < tokens.size();) {
    std::size_t j = i + 1;
    while (j < tokens.size() && !tokens[j].space_before) ++j;
    if (j - i >= 2) {
      std::u32string glued;
      for (std::size_t k = i; k < j; ++k) glued += tokens[k].text;
      Token g{.text = glued, .leet_front = tokens[i].leet_front, .leet_back = tokens[j - 1].leet_back};
      candidates.push_back(runs_of(g.trimmed()));
    }
    i = j;
  }
  // A run of single letters may start or end with a real one-letter word ("a n u d e woman"): its
  // beginnings and endings up to the longest term's length are candidates too.
  std::size_t longest = 0;
  for (const auto& term : *terms_) {
    std::size_t letters = 0;
    for (const auto& r : term.glued) letters += r.second;
    longest = std::max(longest, letters);
  }
  for (std::size_t i = 0; i < tokens.size();) {
    std::size_t j = i;
    std::u32string glued;
    while (j < tokens.size() && tokens[j].text.size() == 1) glued += tokens[j++].text;
    if (glued.size() >= 2) {
      candidates.push_back(runs_of(glued));
      for (std::size_t k = 2; k < glued.size() && k <= longest; ++k) {
        candidates.push_back(runs_of(glued.substr(0, k)));
        candidates.push_back(runs_of(glued.substr(glued.size() - k)));
      }
    }
    i = std::max(j, i + 1);
  }
  for (const auto& term : *terms_) {
    if (level == PolicyLevel::base && term.level != PolicyLevel::base) continue;
    bool hit = false;
    for (const auto& c : candidates) {
      if (word_matches(c, term.glued, term.prefix)) {
        hit = true;
        break;
      }
    }
    const std::size_t n = term.words.size();
    for (std::size_t i = 0; !hit && n > 1 && i + n <= words.size(); ++i) {
      hit = true;
      for (std::size_t k = 0; k < n && hit; ++k)
        hit = word_matches(words[i + k], term.words[k], term.prefix && k + 1 == n);
    }
    if (hit) return PolicyHit{.term = term.shown, .list = term.list, .level = term.level};
  }
  return std::nullopt;
}

namespace {

std::vector<PolicyList> builtin_of(PolicyLevel level) {
  std::vector<PolicyList> out;
  for (const auto& [name, text] : kPolicyFiles) {
    const bool group = name.starts_with("blocklist.group.");
    if (group == (level == PolicyLevel::strict)) out.push_back({std::string(name), std::string(text)});
  }
  return out;
}

}  // namespace

std::span<const PolicyList> PromptPolicy::builtin_lists(PolicyLevel level) {
  static const std::vector<PolicyList> base = builtin_of(PolicyLevel::base);
  static const std::vector<PolicyList> strict = builtin_of(PolicyLevel::strict);
  return level == PolicyLevel::base ? base : strict;
}

std::shared_ptr<const PromptPolicy> PromptPolicy::builtin() {
  static const std::shared_ptr<const PromptPolicy> policy = [] {
    auto parsed = parse(builtin_lists(PolicyLevel::base), builtin_lists(PolicyLevel::strict));
    if (!parsed) throw std::logic_error("the built-in blocklists do not parse: " + parsed.error().public_message);
    return std::make_shared<const PromptPolicy>(std::move(parsed).value());
  }();
  return policy;
}

Error prompt_blocked_error(const PolicyHit& hit) {
  Error e = make_error(ErrorCode::invalid_argument, "the prompt is not allowed by the content policy",
                       "prompt policy: term \"" + hit.term + "\" of " + hit.list);
  e.field_errors.push_back(
      {.field = "prompt",
       .message = "the prompt contains a term the content policy does not allow",
       .type = std::string(kPromptBlockedType) + (hit.level == PolicyLevel::strict ? ".safe_mode" : "")});
  return e;
}

bool is_prompt_blocked(const Error& e) {
  return e.code == ErrorCode::invalid_argument &&
         std::any_of(e.field_errors.begin(), e.field_errors.end(),
                     [](const FieldError& f) { return f.type.starts_with(kPromptBlockedType); });
}

bool is_blocked_by_safe_mode(const Error& e) {
  return e.code == ErrorCode::invalid_argument &&
         std::any_of(e.field_errors.begin(), e.field_errors.end(),
                     [](const FieldError& f) { return f.type == std::string(kPromptBlockedType) + ".safe_mode"; });
}

}  // namespace igb::core
