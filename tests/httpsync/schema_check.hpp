#pragma once

// Validation of request bodies against the JSON Schema files of docs/httpsync/.

#include "json_schema.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace laredo::testing::httpsync {

// The schema of the payload POSTed to `path` ("/changes", "/baseline/start", ...).
inline const json_schema& schema_for(const std::string& path) {
    static const std::map<std::string, json_schema> schemas = [] {
        const std::string dir = LAREDO_HTTPSYNC_SCHEMA_DIR;
        std::map<std::string, json_schema> m;
        m.emplace("/baseline/start", json_schema::from_file(dir + "/baseline-start.schema.json"));
        m.emplace("/baseline/batch", json_schema::from_file(dir + "/baseline-batch.schema.json"));
        m.emplace("/baseline/complete",
                  json_schema::from_file(dir + "/baseline-complete.schema.json"));
        m.emplace("/changes", json_schema::from_file(dir + "/changes.schema.json"));
        return m;
    }();
    return schemas.at(path);
}

// Checks `body` against the schema of `path`; returns the problems as one string ("" = valid).
inline std::string schema_problems(const std::string& path, const std::string& body) {
    boost::json::value parsed;
    try {
        parsed = laredo::json::parse(body);
    } catch (const std::exception& e) {
        return std::string("not JSON: ") + e.what();
    }
    std::string out;
    for (const auto& p : schema_for(path).validate(parsed)) out += p + "\n";
    return out;
}

#define EXPECT_VALID_PAYLOAD(path, body) \
    EXPECT_EQ(::laredo::testing::httpsync::schema_problems(path, body), "") << (body)

}  // namespace laredo::testing::httpsync
