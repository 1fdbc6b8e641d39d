#include "laredo/server/http/message.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace laredo::server::http {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+' && plus_is_space) {
            out += ' ';
            continue;
        }
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        const int hi = hex_digit(in[i + 1]);
        const int lo = hex_digit(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

}  // namespace

std::optional<std::string> request::param(std::string_view name) const {
    const auto it = query.find(std::string(name));
    if (it == query.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> request::params(std::string_view name) const {
    std::vector<std::string> out;
    const auto [begin, end] = query.equal_range(std::string(name));
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
    return out;
}

response response::json(unsigned status, const boost::json::value& body) {
    response r;
    r.status = status;
    r.body = boost::json::serialize(body);
    return r;
}

response response::error(unsigned status, std::string_view code, std::string_view message) {
    return json(status, boost::json::object{
                            {"error", boost::json::object{{"code", code}, {"message", message}}}});
}

response response::text(unsigned status, std::string body, std::string content_type) {
    response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    return r;
}

bool parse_target(std::string_view target, std::vector<std::string>& segments,
                  std::multimap<std::string, std::string>& query) {
    std::string_view path = target;
    std::string_view query_text;
    if (const auto q = target.find('?'); q != std::string_view::npos) {
        path = target.substr(0, q);
        query_text = target.substr(q + 1);
    }
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto end = path.find('/');
        auto decoded = percent_decode(path.substr(0, end), false);
        if (!decoded) return false;
        segments.push_back(std::move(*decoded));
        path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
    }
    while (!query_text.empty()) {
        const auto amp = query_text.find('&');
        const auto pair = query_text.substr(0, amp);
        query_text =
            amp == std::string_view::npos ? std::string_view{} : query_text.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        auto val = eq == std::string_view::npos ? std::optional<std::string>("")
                                                : percent_decode(pair.substr(eq + 1), true);
        if (!name || !val) return false;
        query.emplace(std::move(*name), std::move(*val));
    }
    return true;
}

}  // namespace laredo::server::http
