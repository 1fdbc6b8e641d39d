#pragma once

// The text format of `COPY ... TO STDOUT` (the baseline's wire format), sans-io: one row per
// line, columns separated by a tab, `\N` for NULL, and backslash escapes inside values:
// \b \f \n \r \t \v \\, \ followed by 1-3 octal digits, \x followed by 1-2 hex digits (any other
// escaped character stands for itself). The server writes a line per row, so a COPY chunk
// (whole CopyData messages) is whole lines.
//
// A field without a backslash is handed out as a view into the line (no copy); only escaped
// fields are unescaped, into a buffer the parser owns. Views stay valid until the next call
// of parse().

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::sources::postgres {

class copy_text_parser {
  public:
    // Splits one line (without its '\n') into its fields: std::nullopt for \N. Throws
    // laredo::error(errc::corrupt_data) when the line has not `expected_fields` fields
    // (0: any number) or ends inside an escape, naming the problem and the byte offset.
    const std::vector<std::optional<std::string_view>>& parse(std::string_view line,
                                                              std::size_t expected_fields = 0);

    // Takes the next '\n'-terminated line off the front of `chunk` (without its '\n');
    // std::nullopt when `chunk` is empty. Throws errc::corrupt_data when `chunk` ends inside a
    // line (the server sends whole lines).
    static std::optional<std::string_view> take_line(std::string_view& chunk);

  private:
    std::vector<std::optional<std::string_view>> fields_;
    // Unescaped values of this line, end to end; fields_ view into it.
    std::string unescaped_;
    struct escaped_field {
        std::size_t field;
        std::size_t begin;
        std::size_t end;
    };
    std::vector<escaped_field> escaped_;
};

}  // namespace laredo::sources::postgres
