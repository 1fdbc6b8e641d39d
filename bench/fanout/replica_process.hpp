#pragma once

// The client side of the fan-out benchmark, run in a process of its own so that each side's
// memory can be measured apart: `count` replica clients of one table, driven by the server
// process over a pipe.

#include "process_tools.hpp"

#include <cstddef>

namespace laredo::bench {

// Reads "<url>", starts `count` clients on one io_context thread and waits until every one is
// ready, then answers "ready <rss before> <rss after>". Then, for each "until <sequence>",
// waits until every client has applied that position and answers "done <rss> <CPU seconds
// spent meanwhile>"; "quit" stops the clients. Returns the process's exit status.
int run_replica_process(line_pipe& from_server, line_pipe& to_server, std::size_t count);

}  // namespace laredo::bench
