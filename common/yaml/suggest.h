#pragma once
// "Did you mean ...?" for misspelt keys and enum values.
//
// EditDistance is the optimal-string-alignment (restricted Damerau-
// Levenshtein) distance: insertions, deletions, substitutions and swaps of
// two adjacent characters each cost 1, so `stpes` is 1 away from `steps`.
// ClosestMatch compares spellings after NormalizeSpelling (lower case, `-`
// and spaces read as `_`), because `Warmup-Steps` is the same mistake as
// `warmup_steps`. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dstrain::yaml {

int EditDistance(std::string_view a, std::string_view b);

// Lower case; `-` and ` ` become `_`.
std::string NormalizeSpelling(std::string_view s);

// The largest distance at which `candidate` still counts as a likely
// misspelling: 1 for names of up to 4 characters, 2 up to 8, 3 beyond.
int MaxTypoDistance(std::string_view candidate);

struct Candidate {
  std::string spelling;    // what the user might have meant to type
  std::string suggestion;  // what to tell them (often the same)
  int tier = 0;            // breaks ties in distance: lower wins
};

// The suggestion of the candidate nearest to `word` (distance, then tier,
// then list order), or nothing when none is within MaxTypoDistance.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<Candidate>& pool);

}  // namespace dstrain::yaml
