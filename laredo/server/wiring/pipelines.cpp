#include "laredo/server/wiring/pipelines.hpp"

#include "laredo/server/common/describe.hpp"

namespace laredo::server::wiring {

row_filter loose_equals(std::string field, value v) {
    return [field = std::move(field), v = std::move(v)](const table_identifier&, const row& r) {
        const auto* actual = r.find(field);
        if (!actual) return false;
        if (actual->get_type() == v.get_type()) return *actual == v;
        if (actual->is_null() || v.is_null()) return false;
        return actual->to_string() == v.to_string();
    };
}

pipeline_options make_pipeline_options(const config::table_config& table,
                                       const config::target_config& target, const std::string& key,
                                       std::vector<std::string>& problems) {
    pipeline_options o;
    o.id = target.id;
    o.buffer_size = target.buffer_size;
    o.buffer_bytes = target.buffer_bytes;
    o.buffer = target.buffer;
    o.on_error = target.on_error;
    o.retry.attempts = target.max_retries;
    o.retry.initial = target.retry_initial_backoff;
    o.retry.max = target.retry_max_backoff;
    o.recover_after = target.recover_after;
    o.recover_max_backoff = target.recover_max_backoff;
    o.ttl_field = table.ttl_field;
    o.ttl_scan_interval = table.ttl_check_interval;
    o.validation_interval = table.validation_interval;
    o.on_validation_mismatch = table.on_validation_mismatch;
    for (std::size_t i = 0; i < target.filters.size(); ++i) {
        const auto& f = target.filters[i];
        try {
            if (f.type == "field-equals")
                o.filters.push_back(loose_equals(f.field, f.equals));
            else if (f.type == "field-prefix")
                o.filters.push_back(filters::field_prefix(f.field, f.prefix));
            else
                o.filters.push_back(filters::field_regex(f.field, f.pattern));
        } catch (const std::exception& e) {
            problems.push_back(key + ".filters[" + std::to_string(i) + "]: " + describe(e));
        }
    }
    for (const auto& t : target.transforms) {
        if (t.type == "drop-fields")
            o.transforms.push_back(transforms::drop_fields(t.fields));
        else if (t.type == "rename-fields")
            o.transforms.push_back(transforms::rename_fields(t.renames));
        else
            o.transforms.push_back(transforms::add_timestamp(t.field));
    }
    return o;
}

}  // namespace laredo::server::wiring
