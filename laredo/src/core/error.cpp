#include "laredo/error.hpp"

#include <string>

namespace laredo {

namespace {
class category_impl : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "laredo"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::invalid_argument:
                return "invalid argument";
            case errc::invalid_position:
                return "invalid position";
            case errc::invalid_config:
                return "invalid configuration";
            case errc::unknown_source:
                return "unknown source";
            case errc::unknown_table:
                return "unknown table";
            case errc::not_started:
                return "engine not started";
            case errc::already_started:
                return "engine already started";
            case errc::stopped:
                return "stopped";
            case errc::timeout:
                return "timed out";
            case errc::source_failed:
                return "source failed";
            case errc::target_failed:
                return "target failed";
            case errc::transient:
                return "transient failure";
            case errc::rebaseline_required:
                return "re-baseline required";
            case errc::buffer_overflow:
                return "pipeline buffer overflow";
            case errc::schema_mismatch:
                return "schema mismatch";
            case errc::corrupt_data:
                return "corrupt data";
            case errc::unsupported:
                return "unsupported operation";
            case errc::pipeline_failed:
                return "pipeline failed";
            case errc::internal_error:
                return "internal error";
        }
        return "unknown laredo error " + std::to_string(ev);
    }
};
}  // namespace

const boost::system::error_category& laredo_category() noexcept {
    static const category_impl instance;
    return instance;
}

bool is_fatal(const boost::system::error_code& ec) noexcept {
    if (!ec) return false;
    if (ec.category() == laredo_category()) {
        switch (static_cast<errc>(ec.value())) {
            case errc::transient:
            case errc::timeout:
                return false;
            default:
                return true;
        }
    }
    // Errors from the system or Asio (connection reset, refused, host unreachable...) are
    // what reconnecting is for; a bad argument is not.
    return ec == boost::system::errc::invalid_argument ||
           ec == boost::system::errc::not_supported || ec == boost::system::errc::permission_denied;
}

}  // namespace laredo
