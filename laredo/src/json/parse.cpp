#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <fmt/format.h>

#include <charconv>

namespace laredo::json {

namespace {

// Boost.JSON's parse handler, except that doubles are re-read from their text with
// std::from_chars, which rounds correctly (Boost 1.81's own conversion is sometimes one unit
// off, so float64 values would not round-trip through files).
struct exact_handler {
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    boost::json::value_stack st;
    std::string number;  // the text of a number split over several on_number_part calls

    using ec_t = boost::json::error_code;
    using sv_t = boost::json::string_view;

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_object_begin(ec_t&) { return true; }
    bool on_object_end(std::size_t n, ec_t&) {
        st.push_object(n);
        return true;
    }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t n, ec_t&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(sv_t s, std::size_t, ec_t&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(sv_t s, std::size_t, ec_t&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(sv_t s, std::size_t, ec_t&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(sv_t s, std::size_t, ec_t&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(sv_t s, ec_t&) {
        number.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, sv_t, ec_t&) {
        number.clear();
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, sv_t, ec_t&) {
        number.clear();
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, sv_t s, ec_t&) {
        number.append(s.data(), s.size());
        double exact = 0;
        const auto r = std::from_chars(number.data(), number.data() + number.size(), exact);
        // Out of range (1e999): keep Boost's answer (it saturates to infinity like JSON
        // readers do); it never happens for what laredo writes.
        if (r.ec == std::errc{} && r.ptr == number.data() + number.size()) d = exact;
        number.clear();
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, ec_t&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(ec_t&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(sv_t, ec_t&) { return true; }
    bool on_comment(sv_t, ec_t&) { return true; }
};

}  // namespace

boost::json::value parse(std::string_view text) {
    boost::json::basic_parser<exact_handler> p(boost::json::parse_options{});
    p.handler().st.reset();
    boost::json::error_code ec;
    const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = boost::json::error::extra_data;
    if (ec) {
        throw error(errc::corrupt_data,
                    fmt::format("invalid JSON at offset {}: {}", n, ec.message()));
    }
    return p.handler().st.release();
}

}  // namespace laredo::json
