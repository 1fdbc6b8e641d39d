#pragma once

// What Asio itself costs on this machine, measured in the same process as the engine figures
// so the three can be compared: the floor under any per-event design.

namespace laredo::bench {

struct asio_floor {
    double strand_hop_ns = 0;             // co_await post(strand): one hop, one thread
    double channel_element_ns = 0;        // one element sent and received through a channel
    double batched_channel_event_ns = 0;  // per event, when the channel carries 256-event batches
};

// Runs each primitive `count` times on an io_context driven by one thread.
asio_floor measure_asio_floor(long count);

}  // namespace laredo::bench
