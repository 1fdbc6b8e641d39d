#pragma once

#include "laredo/json/values.hpp"

#include <string_view>

namespace laredo::json {

// A value written as plain text (a URL segment, a command-line argument) for a column whose
// natural type is `natural`: numbers and booleans are read as JSON, everything else as the
// text of its JSON string form ("2024-01-02" for a date). Throws like decode_value, or when a
// number or boolean is not valid JSON. The server reads keys in URLs this way, and the CLI
// checks --key values with it before sending them.
value decode_text(std::string_view text, value::type natural);

}  // namespace laredo::json
