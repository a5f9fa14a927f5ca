// A small streaming JSON writer for --json output, reports and ledger keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/value.h"

namespace backfill {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // Starts a member of the enclosing object; follow with a value or a begin_.
  JsonWriter& key(std::string_view name);
  JsonWriter& value(const Value& v);
  JsonWriter& value(std::string_view s) { return value(Value(std::string(s))); }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t i) { return value(Value(i)); }
  JsonWriter& value(int i) { return value(Value(std::int64_t{i})); }
  JsonWriter& value(double d) { return value(Value(d)); }
  JsonWriter& value(bool b) { return value(Value(b)); }
  // Inserts already-encoded JSON.
  JsonWriter& raw(std::string_view json);

  template <class T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  std::string take() { return std::move(out_); }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

void append_json_string(std::string& out, std::string_view s);

}  // namespace backfill
