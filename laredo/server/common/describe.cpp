#include "laredo/server/common/describe.hpp"

#include <boost/system/system_error.hpp>

namespace laredo::server {

std::string describe(const std::exception& e) {
    std::string text = e.what();
    if (const auto* se = dynamic_cast<const boost::system::system_error*>(&e)) {
        const auto suffix = ": " + se->code().message();
        if (const auto at = text.rfind(suffix); at != std::string::npos && at > 0) text.erase(at);
    }
    return text;
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return describe(ex);
    } catch (...) {
        return "unknown failure";
    }
}

}  // namespace laredo::server
