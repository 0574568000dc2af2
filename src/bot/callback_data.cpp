#include "bot/callback_data.hpp"

#include <stdexcept>

namespace igb::bot {
namespace {

std::optional<std::string> join(std::string_view prefix, std::string_view argument) {
  std::string out(prefix);
  if (!argument.empty()) {
    out += ':';
    out += argument;
  }
  if (out.size() > kMaxCallbackData) return std::nullopt;
  return out;
}

// The argument of `data` if it is of kind `prefix` ("" when there is none); nullopt otherwise.
std::optional<std::string_view> argument_of(std::string_view data, std::string_view prefix) {
  if (data.empty() || data.size() > kMaxCallbackData) return std::nullopt;
  auto colon = data.find(':');
  if (data.substr(0, colon) != prefix) return std::nullopt;
  return colon == std::string_view::npos ? std::string_view() : data.substr(colon + 1);
}

// Kinds whose argument is one string, required (job ids, plans…) or optional (settings menus).
template <class T, std::string T::*Field, bool Required>
struct OneString {
  static std::optional<std::string> encode(const T& d) { return join(T::kPrefix, d.*Field); }
  static std::optional<T> decode(std::string_view data) {
    auto arg = argument_of(data, T::kPrefix);
    if (!arg || (Required && arg->empty())) return std::nullopt;
    T out;
    out.*Field = std::string(*arg);
    return out;
  }
};

template <class T>
struct Codec;
template <>
struct Codec<AgainData> : OneString<AgainData, &AgainData::job_id, true> {};
template <>
struct Codec<VariationsData> : OneString<VariationsData, &VariationsData::job_id, true> {};
template <>
struct Codec<EnhanceData> : OneString<EnhanceData, &EnhanceData::job_id, true> {};
template <>
struct Codec<OriginalData> : OneString<OriginalData, &OriginalData::job_id, true> {};
template <>
struct Codec<CancelJobData> : OneString<CancelJobData, &CancelJobData::job_id, true> {};
template <>
struct Codec<SettingsData> : OneString<SettingsData, &SettingsData::menu, false> {};
template <>
struct Codec<AspectRatioData> : OneString<AspectRatioData, &AspectRatioData::ratio, true> {};
template <>
struct Codec<StyleData> : OneString<StyleData, &StyleData::style, true> {};
template <>
struct Codec<LanguageData> : OneString<LanguageData, &LanguageData::lang, true> {};
template <>
struct Codec<ApiKeyData> : OneString<ApiKeyData, &ApiKeyData::action, true> {};
template <>
struct Codec<BuyData> : OneString<BuyData, &BuyData::plan_id, true> {};

template <>
struct Codec<RenewalData> {
  static std::optional<std::string> encode(const RenewalData& d) {
    return join(RenewalData::kPrefix, d.on ? "on" : "off");
  }
  static std::optional<RenewalData> decode(std::string_view data) {
    auto arg = argument_of(data, RenewalData::kPrefix);
    if (!arg || (*arg != "on" && *arg != "off")) return std::nullopt;
    return RenewalData{.on = *arg == "on"};
  }
};

}  // namespace

template <class T>
std::optional<std::string> encode(const T& data) {
  return Codec<T>::encode(data);
}

template <class T>
std::optional<T> decode(std::string_view data) {
  return Codec<T>::decode(data);
}

#define IGB_CALLBACK_KIND(T)                               \
  template std::optional<std::string> encode<T>(const T&); \
  template std::optional<T> decode<T>(std::string_view);
IGB_CALLBACK_KIND(AgainData)
IGB_CALLBACK_KIND(VariationsData)
IGB_CALLBACK_KIND(OriginalData)
IGB_CALLBACK_KIND(EnhanceData)
IGB_CALLBACK_KIND(CancelJobData)
IGB_CALLBACK_KIND(SettingsData)
IGB_CALLBACK_KIND(AspectRatioData)
IGB_CALLBACK_KIND(StyleData)
IGB_CALLBACK_KIND(LanguageData)
IGB_CALLBACK_KIND(ApiKeyData)
IGB_CALLBACK_KIND(BuyData)
IGB_CALLBACK_KIND(RenewalData)
#undef IGB_CALLBACK_KIND

std::string_view callback_prefix(std::string_view data) {
  if (data.empty() || data.size() > kMaxCallbackData) return {};
  return data.substr(0, data.find(':'));
}

void throw_too_long(std::string_view prefix) {
  throw std::logic_error("callback_data of kind '" + std::string(prefix) + "' over " +
                         std::to_string(kMaxCallbackData) + " bytes");
}

}  // namespace igb::bot
