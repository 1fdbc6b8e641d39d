#pragma once

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace laredo::sources::postgres::testing {

// Runs `f`, which must throw laredo::error with `code` and a message containing every one of
// `needles`. Returns the message (empty when it did not throw as expected).
template <class F, class... Needles>
std::string expect_error(F&& f, laredo::errc code, const Needles&... needles) {
    try {
        f();
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), laredo::make_error_code(code)) << e.what();
        const std::string what = e.what();
        const auto check = [&](std::string_view needle) {
            EXPECT_NE(what.find(needle), std::string::npos)
                << "message \"" << what << "\" lacks \"" << needle << "\"";
        };
        (check(std::string_view(needles)), ...);
        (void)check;  // unused when no needles are given
        return what;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw a non-laredo exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "did not throw";
    return {};
}

}  // namespace laredo::sources::postgres::testing
