// laredo: the command line client of laredo-server (docs/cli.md). Every command is one call
// (or a few) of the server's HTTP API.
//
// Exit codes: 0 success, 1 a failed call (or `ready` when not ready), 2 a usage error.

#include "laredo/cli/session.hpp"

int main(int argc, char** argv) { return laredo::cli::run(argc, argv); }
