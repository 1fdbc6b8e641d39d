#include "credentials.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace laredo::targets::httpsync::detail {

namespace {

std::string trimmed(std::string s) {
    while (!s.empty() &&
           (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
        s.pop_back();
    return s;
}

bool usable(const std::string& s) {
    return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

}  // namespace

credentials::credentials(const http_sync_options& o) {
    bearer_ =
        !o.bearer_token.empty() || !o.bearer_token_env.empty() || !o.bearer_token_file.empty();
    std::string value;
    if (!o.auth_header.empty() || !o.bearer_token.empty()) {
        value = trimmed(o.auth_header.empty() ? o.bearer_token : o.auth_header);
    } else if (!o.auth_header_env.empty() || !o.bearer_token_env.empty()) {
        const auto& name = o.auth_header_env.empty() ? o.bearer_token_env : o.auth_header_env;
        const char* env = std::getenv(name.c_str());
        if (env == nullptr)
            throw error(errc::invalid_config,
                        fmt::format("httpsync: environment variable {} is not set", name));
        value = trimmed(env);
        if (!usable(value))
            throw error(errc::invalid_config,
                        fmt::format("httpsync: environment variable {} is empty or holds "
                                    "control characters",
                                    name));
    } else if (!o.auth_header_file.empty() || !o.bearer_token_file.empty()) {
        file_ = o.auth_header_file.empty() ? o.bearer_token_file : o.auth_header_file;
        auto read = read_file();
        if (!read)
            throw error(errc::invalid_config,
                        fmt::format("httpsync: cannot read the credentials file {} (or it is "
                                    "empty or holds control characters)",
                                    file_));
        value = std::move(*read);
    } else {
        return;
    }
    if (!usable(value))
        throw error(errc::invalid_config,
                    "httpsync: the Authorization value is empty or holds control characters");
    header_ = bearer_ ? "Bearer " + value : value;
}

std::optional<std::string> credentials::read_file() const {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return std::nullopt;
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return std::nullopt;
    content = trimmed(std::move(content));
    if (!usable(content)) return std::nullopt;
    return content;
}

bool credentials::refresh() {
    if (file_.empty()) return true;
    auto read = read_file();
    if (!read) return false;
    header_ = bearer_ ? "Bearer " + *read : *read;
    return true;
}

}  // namespace laredo::targets::httpsync::detail
