#include "contents.hpp"

#include "laredo/sources/postgres/value_converter.hpp"

namespace laredo::sources::postgres::testing {

std::string key_text(const row& r) {
    std::string out;
    for (const auto& v : r.key()) out += v.to_string() + "|";
    return out;
}

std::string row_text(const row& r) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i)
        out += r.schema()->column(i).name + "=" + r[i].to_string() + ";";
    return out;
}

contents target_contents(const targets::memory::indexed_target& target) {
    contents out;
    target.for_each([&](const row& r) { out[key_text(r)] = row_text(r); });
    return out;
}

contents rows_contents(const schema_ptr& schema, const std::vector<std::uint32_t>& types,
                       const std::vector<std::vector<std::optional<std::string>>>& rows) {
    value_converter converter;
    contents out;
    for (const auto& fields : rows) {
        std::vector<value> values;
        values.reserve(fields.size());
        for (std::size_t i = 0; i < fields.size(); ++i)
            values.push_back(fields[i] ? converter.convert(types[i], *fields[i]) : value());
        row r(schema, std::move(values));
        out[key_text(r)] = row_text(r);
    }
    return out;
}

}  // namespace laredo::sources::postgres::testing
