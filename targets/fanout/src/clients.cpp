#include "clients.hpp"

namespace laredo::targets::fanout::detail {

std::shared_ptr<client_record> client_registry::add(std::string client_id, std::string remote) {
    std::lock_guard lock(mutex_);
    if (max_ > 0 && clients_.size() >= max_) return nullptr;
    auto r = std::make_shared<client_record>();
    r->session = next_session_++;
    r->client_id = std::move(client_id);
    r->remote = std::move(remote);
    r->connected_at = std::chrono::system_clock::now();
    clients_.emplace(r->session, r);
    return r;
}

void client_registry::remove(std::uint64_t session) {
    std::lock_guard lock(mutex_);
    clients_.erase(session);
}

std::size_t client_registry::size() const {
    std::lock_guard lock(mutex_);
    return clients_.size();
}

std::vector<client_status> client_registry::list(std::uint64_t head) const {
    std::lock_guard lock(mutex_);
    std::vector<client_status> out;
    out.reserve(clients_.size());
    for (const auto& [id, r] : clients_) {
        client_status s;
        s.session = id;
        s.client_id = r->client_id;
        s.remote = r->remote;
        s.state = r->state.load();
        s.mode = r->mode();
        s.sequence = r->sequence.load();
        s.behind = head > s.sequence ? head - s.sequence : 0;
        s.queue_bytes = r->queue_bytes.load();
        s.filters = r->filters.load();
        s.connected_at = r->connected_at;
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace laredo::targets::fanout::detail
