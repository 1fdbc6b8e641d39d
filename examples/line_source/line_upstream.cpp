#include "line_upstream.hpp"

#include "laredo/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <set>

namespace laredo::examples {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::optional<std::uint64_t> number_of(std::string_view text) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return n;
}

[[noreturn]] void refuse(const std::string& why) {
    throw error(errc::invalid_argument, "line upstream: " + why);
}

}  // namespace

class line_upstream::impl : public std::enable_shared_from_this<impl> {
  public:
    impl(asio::any_io_executor executor, int send_buffer_bytes)
        : strand_(asio::make_strand(executor)),
          acceptor_(strand_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
          endpoint_(acceptor_.local_endpoint()),
          wake_(strand_),
          send_buffer_bytes_(send_buffer_bytes) {
        wake_.expires_at(asio::steady_timer::time_point::max());
    }

    void start() { asio::co_spawn(strand_, accept_loop(shared_from_this()), asio::detached); }

    // --- Called from any thread. ---

    void add_table(const table_identifier& table, std::vector<std::string> columns,
                   std::size_t key_columns) {
        if (key_columns == 0 || key_columns > columns.size())
            refuse(fmt::format("{}: {} key columns of {}", table.to_string(), key_columns,
                               columns.size()));
        std::lock_guard lock(mutex_);
        tables_[table] = table_data{std::move(columns), key_columns, {}};
    }

    std::uint64_t commit(const std::vector<upstream_change>& changes) {
        std::uint64_t last = 0;
        {
            std::lock_guard lock(mutex_);
            // Check every change first, so a refused transaction changes nothing.
            std::vector<std::vector<std::optional<std::string>>> values;
            std::vector<std::vector<bool>> given;
            for (const auto& c : changes) {
                auto& t = table(c.table);
                auto& v = values.emplace_back(t.columns.size());
                auto& g = given.emplace_back(t.columns.size(), false);
                if (c.action == change_action::truncate && !c.fields.empty())
                    refuse("TRUNCATE takes no columns");
                for (const auto& [name, text] : c.fields) {
                    const auto i = column_index(t, name);
                    v[i] = text;
                    g[i] = true;
                }
                for (std::size_t k = 0; c.action != change_action::truncate && k < t.key; ++k) {
                    if (!v[k])
                        refuse(fmt::format("a change of {} without its key", c.table.to_string()));
                }
            }
            std::string text = "BEGIN\n";
            for (std::size_t i = 0; i < changes.size(); ++i) {
                const auto& c = changes[i];
                auto& t = table(c.table);
                text +=
                    fmt::format("{} {} {}", ++newest_, to_string(c.action), c.table.to_string());
                for (const auto& f : c.fields) text += " " + line_protocol::format_field(f);
                text += "\n";
                const std::vector<std::string> key = key_of(t, values[i]);
                switch (c.action) {
                    case change_action::insert:
                        t.rows[key] = values[i];
                        break;
                    case change_action::update: {
                        auto& stored = t.rows[key];
                        stored.resize(t.columns.size());
                        for (std::size_t col = 0; col < t.columns.size(); ++col)
                            if (given[i][col]) stored[col] = values[i][col];
                        break;
                    }
                    case change_action::delete_:
                        t.rows.erase(key);
                        break;
                    case change_action::truncate:
                        t.rows.clear();
                        break;
                }
            }
            text += "COMMIT\n";
            history_.push_back({next_serial_++, newest_, std::move(text), false});
            last = newest_;
        }
        wake_streams();
        return last;
    }

    void send_raw(std::string line) {
        {
            std::lock_guard lock(mutex_);
            history_.push_back({next_serial_++, newest_, std::move(line) + "\n", true});
        }
        wake_streams();
    }

    void drop_connections() {
        asio::post(strand_, [self = shared_from_this()] { self->close_sockets(); });
    }

    void stop() {
        asio::post(strand_, [self = shared_from_this()] {
            self->stopped_ = true;
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->close_sockets();
        });
    }

    const tcp::endpoint& endpoint() const { return endpoint_; }
    std::uint64_t newest() const {
        std::lock_guard lock(mutex_);
        return newest_;
    }
    std::optional<std::uint64_t> last_ack() const {
        std::lock_guard lock(mutex_);
        return acked_;
    }
    std::size_t open_connections() const {
        std::lock_guard lock(mutex_);
        return sockets_.size();
    }

    std::atomic<std::uint64_t> changes_sent{0};
    std::atomic<std::size_t> snapshots_served{0};
    std::atomic<std::size_t> streams_served{0};

  private:
    struct table_data {
        std::vector<std::string> columns;
        std::size_t key = 1;
        std::map<std::vector<std::string>, std::vector<std::optional<std::string>>> rows;
    };
    // A committed transaction (or a raw line), as its text on the wire.
    struct entry {
        std::uint64_t serial = 0;
        std::uint64_t last = 0;  // the number of its last change (raw: the newest before it)
        std::string text;
        bool raw = false;
    };
    using socket_ptr = std::shared_ptr<tcp::socket>;

    // --- Under mutex_. ---

    table_data& table(const table_identifier& t) {
        const auto it = tables_.find(t);
        if (it == tables_.end()) refuse("no table " + t.to_string());
        return it->second;
    }
    static std::size_t column_index(const table_data& t, const std::string& name) {
        for (std::size_t i = 0; i < t.columns.size(); ++i)
            if (t.columns[i] == name) return i;
        refuse("no column " + name);
    }
    static std::vector<std::string> key_of(const table_data& t,
                                           const std::vector<std::optional<std::string>>& v) {
        std::vector<std::string> key;
        for (std::size_t k = 0; k < t.key; ++k) key.push_back(v[k].value_or(""));
        return key;
    }

    // The reply to a request other than STREAM.
    std::string answer(std::string_view verb, std::string_view args) {
        std::lock_guard lock(mutex_);
        if (verb == "RESET") {
            acked_ = newest_;
            history_.clear();
        }
        if (verb == "HISTORY" || verb == "RESET") {
            return fmt::format("HISTORY {} {}\n", acked_ ? std::to_string(*acked_) : "-", newest_);
        }
        std::vector<table_identifier> asked;
        try {
            for (std::size_t at = 0; at < args.size();) {
                const auto space = std::min(args.find(' ', at), args.size());
                asked.push_back(table_identifier::parse(args.substr(at, space - at)));
                at = space + 1;
            }
        } catch (const std::exception& e) {
            return fmt::format("ERROR BAD_REQUEST {}\n", e.what());
        }
        if (asked.empty() || (verb != "SCHEMA" && verb != "SNAPSHOT") ||
            (verb == "SCHEMA" && asked.size() != 1)) {
            return fmt::format("ERROR BAD_REQUEST {} {}\n", verb, args);
        }
        for (const auto& t : asked) {
            if (!tables_.contains(t))
                return fmt::format("ERROR UNKNOWN_TABLE no table {}\n", t.to_string());
        }
        std::string out;
        if (verb == "SCHEMA") {
            const auto& t = tables_.at(asked.front());
            out = "COLUMNS " + asked.front().to_string();
            for (std::size_t i = 0; i < t.columns.size(); ++i)
                out += " " + t.columns[i] + (i < t.key ? "*" : "");
            return out + "\n";
        }
        ++snapshots_served;
        for (const auto& name : asked) {
            for (const auto& [key, values] : tables_.at(name).rows) {
                out += "ROW " + name.to_string();
                const auto& columns = tables_.at(name).columns;
                for (std::size_t i = 0; i < columns.size(); ++i)
                    out += " " + line_protocol::format_field({columns[i], values[i]});
                out += "\n";
            }
        }
        return out + fmt::format("END {}\n", newest_);
    }

    // An ACK: the changes up to it may be forgotten. False when `text` is no number.
    bool record_ack(std::string_view text) {
        const auto acked = number_of(text);
        if (!acked) return false;
        std::lock_guard lock(mutex_);
        if (!acked_ || *acked > *acked_) acked_ = *acked;
        // A raw line sent after change n is not covered by ACK n.
        while (!history_.empty() && (history_.front().last < *acked_ ||
                                     (history_.front().last == *acked_ && !history_.front().raw)))
            history_.pop_front();
        return true;
    }

    // --- On the strand. ---

    void wake_streams() {
        asio::post(strand_, [self = shared_from_this()] { self->wake_.cancel(); });
    }

    void close_sockets() {
        std::set<socket_ptr> sockets;
        {
            std::lock_guard lock(mutex_);
            sockets = sockets_;
        }
        for (const auto& s : sockets) {
            boost::system::error_code ignored;
            s->close(ignored);
        }
        wake_.cancel();  // stream writers notice their socket is gone
    }

    void forget(const socket_ptr& s) {
        boost::system::error_code ignored;
        s->close(ignored);
        std::lock_guard lock(mutex_);
        sockets_.erase(s);
    }

    static awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        for (;;) {
            auto [ec, socket] = co_await self->acceptor_.async_accept(use_tuple);
            if (ec) co_return;  // stopped
            boost::system::error_code ignored;
            if (self->send_buffer_bytes_ > 0) {
                socket.set_option(asio::socket_base::send_buffer_size(self->send_buffer_bytes_),
                                  ignored);
            }
            socket.set_option(tcp::no_delay(true), ignored);
            auto s = std::make_shared<tcp::socket>(std::move(socket));
            {
                std::lock_guard lock(self->mutex_);
                self->sockets_.insert(s);
            }
            asio::co_spawn(self->strand_, serve(self, s), asio::detached);
        }
    }

    static awaitable<void> serve(std::shared_ptr<impl> self, socket_ptr s) {
        std::string buffer;
        for (;;) {
            auto [ec, n] =
                co_await asio::async_read_until(*s, asio::dynamic_buffer(buffer), '\n', use_tuple);
            if (ec) break;
            std::string line = buffer.substr(0, n - 1);
            buffer.erase(0, n);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const auto space = std::min(line.find(' '), line.size());
            const std::string verb = line.substr(0, space);
            const std::string args = line.substr(std::min(space + 1, line.size()));
            if (verb == "STREAM") {
                co_await self->stream(s, args, std::move(buffer));
                break;
            }
            if (verb == "ACK") {
                if (!self->record_ack(args)) break;
                continue;
            }
            const std::string reply = self->answer(verb, args);
            auto [write_ec, written] =
                co_await asio::async_write(*s, asio::buffer(reply), use_tuple);
            if (write_ec) break;
        }
        self->forget(s);
    }

    awaitable<void> stream(socket_ptr s, std::string args, std::string buffer) {
        auto self = shared_from_this();
        std::string refusal;
        std::uint64_t next = 0;  // serial of the next entry to send
        {
            std::lock_guard lock(mutex_);
            const auto from = number_of(args);
            if (!from) {
                refusal = fmt::format("ERROR BAD_REQUEST STREAM {}\n", args);
            } else if (acked_ && *from < *acked_) {
                refusal = fmt::format("ERROR HISTORY_GONE changes up to {} are gone\n", *acked_);
            } else if (*from > newest_) {
                refusal = fmt::format("ERROR BAD_POSITION no change {} yet\n", *from);
            } else {
                next = next_serial_;
                for (const auto& e : history_) {
                    if (e.last > *from || (e.raw && e.last == *from)) {
                        next = e.serial;
                        break;
                    }
                }
            }
        }
        if (!refusal.empty()) {
            co_await asio::async_write(*s, asio::buffer(refusal), use_tuple);
            co_return;
        }
        ++streams_served;
        asio::co_spawn(strand_, read_acks(self, s, std::move(buffer)), asio::detached);
        while (s->is_open() && !stopped_) {
            std::optional<entry> e;
            {
                std::lock_guard lock(mutex_);
                // Entries the client acked may be gone: it had them already.
                const auto first = history_.empty() ? next_serial_ : history_.front().serial;
                next = std::max(next, first);
                if (next < next_serial_) e = history_[next - first];
            }
            if (!e) {
                co_await wake_.async_wait(use_tuple);
                continue;
            }
            auto [ec, n] = co_await asio::async_write(*s, asio::buffer(e->text), use_tuple);
            if (ec) break;
            ++next;
            for (auto sent = changes_sent.load(); sent < e->last;)
                if (changes_sent.compare_exchange_weak(sent, e->last)) break;
        }
    }

    static awaitable<void> read_acks(std::shared_ptr<impl> self, socket_ptr s, std::string buffer) {
        for (;;) {
            auto [ec, n] =
                co_await asio::async_read_until(*s, asio::dynamic_buffer(buffer), '\n', use_tuple);
            if (ec) break;
            const std::string line = buffer.substr(0, n - 1);
            buffer.erase(0, n);
            // Anything but an ACK ends the conversation.
            if (!line.starts_with("ACK ") || !self->record_ack(line.substr(4))) break;
        }
        self->forget(s);
        self->wake_.cancel();  // the writer notices
    }

    asio::strand<asio::any_io_executor> strand_;
    tcp::acceptor acceptor_;
    const tcp::endpoint endpoint_;
    asio::steady_timer wake_;  // stream writers wait on it; cancel() wakes them all
    const int send_buffer_bytes_;
    bool stopped_ = false;  // strand

    mutable std::mutex mutex_;
    std::map<table_identifier, table_data> tables_;
    std::deque<entry> history_;
    std::uint64_t next_serial_ = 0;
    std::uint64_t newest_ = 0;
    std::optional<std::uint64_t> acked_;
    std::set<socket_ptr> sockets_;
};

line_upstream::line_upstream(asio::any_io_executor executor, int send_buffer_bytes)
    : impl_(std::make_shared<impl>(std::move(executor), send_buffer_bytes)) {
    impl_->start();
}

line_upstream::~line_upstream() { impl_->stop(); }

tcp::endpoint line_upstream::endpoint() const { return impl_->endpoint(); }

void line_upstream::add_table(const table_identifier& table, std::vector<std::string> columns,
                              std::size_t key_columns) {
    impl_->add_table(table, std::move(columns), key_columns);
}

std::uint64_t line_upstream::commit(const std::vector<upstream_change>& changes) {
    return impl_->commit(changes);
}

void line_upstream::send_raw(std::string line) { impl_->send_raw(std::move(line)); }
void line_upstream::drop_connections() { impl_->drop_connections(); }
void line_upstream::stop() { impl_->stop(); }
std::uint64_t line_upstream::newest() const { return impl_->newest(); }
std::optional<std::uint64_t> line_upstream::last_ack() const { return impl_->last_ack(); }
std::uint64_t line_upstream::changes_sent() const { return impl_->changes_sent.load(); }
std::size_t line_upstream::snapshots_served() const { return impl_->snapshots_served.load(); }
std::size_t line_upstream::streams_served() const { return impl_->streams_served.load(); }
std::size_t line_upstream::open_connections() const { return impl_->open_connections(); }

}  // namespace laredo::examples
