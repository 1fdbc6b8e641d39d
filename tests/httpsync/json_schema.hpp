#pragma once

// A validator for the subset of JSON Schema (draft 2020-12) that docs/httpsync/*.schema.json
// use. Boost.JSON has none; this one knows these keywords and refuses any other, so a schema
// file cannot silently rely on something it does not check:
//   type (a name or a list), properties, required, additionalProperties (bool or schema),
//   items, minItems, enum, const, anyOf, oneOf, not, $ref ("#/$defs/name"), $defs, minimum,
//   minLength, pattern (ECMAScript), and the annotations $schema, $id, $comment, title,
//   description, examples.

#include <boost/json/value.hpp>

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace laredo::testing::httpsync {

class json_schema {
  public:
    // Throws std::invalid_argument naming an unknown keyword or a malformed one.
    explicit json_schema(boost::json::value schema);

    // Reads and parses a schema file; throws std::runtime_error when it cannot.
    static json_schema from_file(const std::string& path);

    // The problems found ("$.rows[2].id: expected integer, got string"); empty when valid.
    std::vector<std::string> validate(const boost::json::value& instance) const;

  private:
    void check_schema(const boost::json::value& schema, const std::string& where) const;
    void validate_at(const boost::json::value& schema, const boost::json::value& instance,
                     const std::string& path, std::vector<std::string>& problems) const;
    const boost::json::value& resolve(const std::string& ref) const;

    const std::regex& regex_of(const std::string& pattern) const;

    boost::json::value root_;
    // Compiled patterns (std::regex is slow to build; schemas reuse a few patterns often).
    mutable std::map<std::string, std::regex> patterns_;
};

}  // namespace laredo::testing::httpsync
