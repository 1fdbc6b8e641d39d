#include "laredo/targets/memory/value_view.hpp"

#include <string>

namespace laredo::targets::memory {

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
            return value(std::string(bytes()));
        case t::numeric:
            return value(numeric_value{std::string(bytes())});
        case t::bytes:
            return value(bytes_value{std::string(bytes())});
        case t::interval:
            return value(interval_value{std::string(bytes())});
        case t::json:
            return value(json_value{std::string(bytes())});
        case t::array:
            return value(array_value{std::string(bytes())});
    }
    return value();
}

}  // namespace laredo::targets::memory
