#pragma once
// Style presets: a name the user picks, and the words it adds to the prompt.
#include <array>
#include <string>
#include <string_view>

namespace igb::core {

struct StylePreset {
  std::string_view name;
  std::string_view suffix;
};

inline constexpr std::array<StylePreset, 7> kStyles{{
    {"photo", "photorealistic, natural light, 35mm photograph, sharp focus"},
    {"cinematic", "cinematic still, dramatic lighting, shallow depth of field, film grain"},
    {"anime", "anime style, clean line art, vibrant colours"},
    {"watercolor", "watercolor painting, soft edges, paper texture"},
    {"pixel", "pixel art, 16-bit, limited palette"},
    {"3d", "3d render, octane, soft global illumination"},
    {"sketch", "pencil sketch, cross-hatching, monochrome"},
}};

inline const StylePreset* find_style(std::string_view name) {
  for (const auto& s : kStyles) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The prompt as sent to the provider: the user's words, then the preset's.
inline std::string apply_style(std::string_view prompt, std::string_view style) {
  const auto* preset = find_style(style);
  if (preset == nullptr) return std::string(prompt);
  return std::string(prompt) + ", " + std::string(preset->suffix);
}

}  // namespace igb::core
