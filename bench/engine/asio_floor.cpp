#include "asio_floor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <vector>

namespace laredo::bench {

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;

double nanoseconds_per(clock_type::time_point from, clock_type::time_point to, long count) {
    return std::chrono::duration<double, std::nano>(to - from).count() / static_cast<double>(count);
}

double strand_hop(long count) {
    asio::io_context ctx(1);
    auto strand = asio::make_strand(ctx);
    clock_type::time_point from, to;
    auto hops = [&]() -> awaitable<void> {
        from = clock_type::now();
        for (long i = 0; i < count; ++i) co_await asio::post(strand, use_awaitable);
        to = clock_type::now();
    };
    asio::co_spawn(ctx, hops, asio::detached);
    ctx.run();
    return nanoseconds_per(from, to, count);
}

// Sends `count` events through a channel, `Element` at a time; the figure is per event.
// make(i) builds element i, events(e) counts what it carries.
template <class Element, class Make, class Events>
double channel(long count, long per_element, Make make, Events events) {
    asio::io_context ctx(1);
    asio::experimental::channel<void(boost::system::error_code, Element)> ch(ctx, 64);
    clock_type::time_point from, to;
    long received = 0;
    const long elements = count / per_element;
    auto send = [&]() -> awaitable<void> {
        from = clock_type::now();
        for (long i = 0; i < elements; ++i) {
            co_await ch.async_send(boost::system::error_code{}, make(i), use_awaitable);
        }
    };
    auto receive = [&]() -> awaitable<void> {
        for (long i = 0; i < elements; ++i)
            received += events(co_await ch.async_receive(use_awaitable));
        to = clock_type::now();
    };
    asio::co_spawn(ctx, send, asio::detached);
    asio::co_spawn(ctx, receive, asio::detached);
    ctx.run();
    if (received != elements * per_element) return 0;
    return nanoseconds_per(from, to, elements * per_element);
}

}  // namespace

asio_floor measure_asio_floor(long count) {
    asio_floor out;
    out.strand_hop_ns = strand_hop(count);
    out.channel_element_ns = channel<long>(
        count, 1, [](long i) { return i; }, [](long) { return 1L; });
    constexpr long batch = 256;
    using batch_type = std::vector<long>;
    out.batched_channel_event_ns = channel<batch_type>(
        count, batch, [](long i) { return batch_type(batch, i); },
        [](const batch_type& b) { return static_cast<long>(b.size()); });
    return out;
}

}  // namespace laredo::bench
