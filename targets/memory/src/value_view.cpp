#include "laredo/targets/memory/value_view.hpp"

#include <string>

namespace laredo::targets::memory {

bool is_byte_string(value::type t) noexcept {
    switch (t) {
        case value::type::text:
        case value::type::numeric:
        case value::type::bytes:
        case value::type::interval:
        case value::type::json:
        case value::type::array:
            return true;
        default:
            return false;
    }
}

value_view value_view::of(const value& v) noexcept {
    using t = value::type;
    switch (v.get_type()) {
        case t::null:
            return {};
        case t::unchanged:
            return unchanged();
        case t::boolean:
            return from_bool(v.get<bool>());
        case t::int64:
            return from_int(t::int64, v.get<std::int64_t>());
        case t::float64:
            return from_double(v.get<double>());
        case t::date:
            return from_int(t::date, v.get<date_value>().days);
        case t::time:
            return from_int(t::time, v.get<time_value>().micros);
        case t::timestamp:
            return from_int(t::timestamp, v.get<timestamp_value>().micros);
        case t::timestamptz:
            return from_int(t::timestamptz, v.get<timestamptz_value>().micros);
        case t::bytes:
            return from_bytes(t::bytes, v.get<bytes_value>().data);
        default:
            return from_bytes(v.get_type(), *v.text_if());
    }
}

value value_view::to_value() const {
    using t = value::type;
    switch (type_) {
        case t::null:
            return value();
        case t::unchanged:
            return value::unchanged();
        case t::boolean:
            return value(i_ != 0);
        case t::int64:
            return value(i_);
        case t::float64:
            return value(d_);
        case t::date:
            return value(date_value{static_cast<std::int32_t>(i_)});
        case t::time:
            return value(time_value{i_});
        case t::timestamp:
            return value(timestamp_value{i_});
        case t::timestamptz:
            return value(timestamptz_value{i_});
        case t::text:
            return value(std::string(s_));
        case t::numeric:
            return value(numeric_value{std::string(s_)});
        case t::bytes:
            return value(bytes_value{std::string(s_)});
        case t::interval:
            return value(interval_value{std::string(s_)});
        case t::json:
            return value(json_value{std::string(s_)});
        case t::array:
            return value(array_value{std::string(s_)});
    }
    return value();
}

}  // namespace laredo::targets::memory
