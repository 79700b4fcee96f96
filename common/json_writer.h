#pragma once
// A small streaming JSON writer for every JSON dstrain writes (the workers'
// metrics lines, metrics.jsonl, summary.json, --json output): commas and
// string escaping handled, non-finite numbers written as null (JSON has no
// NaN), doubles in the shortest form that reads back to the same value.
// Dependency-free, so the training engine can use it. Not thread-safe.
//
//   JsonWriter w;
//   w.BeginObject().Key("step").Int(3).Key("loss").Number(2.5).EndObject();
//   w.str()  // {"step":3,"loss":2.5}

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dstrain {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  // Shortest form that reads back to the same double.
  JsonWriter& Number(double value);
  JsonWriter& Int(std::int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  const std::string& str() const { return out_; }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: whether it has an element yet.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

}  // namespace dstrain
