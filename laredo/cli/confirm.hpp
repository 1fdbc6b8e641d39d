#pragma once

#include <string>

namespace laredo::cli {

// Destructive commands ask first: with `yes` they go ahead; on a terminal they ask `question`
// (y/N, anything but y/yes declines); without a terminal they refuse with a usage_error
// saying to add --yes. Returns whether to go ahead.
bool confirm(const std::string& question, bool yes);

}  // namespace laredo::cli
