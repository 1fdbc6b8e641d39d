#include "laredo/cli/confirm.hpp"

#include "laredo/cli/errors.hpp"

#include <unistd.h>

#include <iostream>

namespace laredo::cli {

bool confirm(const std::string& question, bool yes) {
    if (yes) return true;
    if (!::isatty(STDIN_FILENO))
        throw usage_error("refusing without confirmation: " + question,
                          "run it on a terminal to be asked, or add --yes");
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes" || answer == "YES";
}

}  // namespace laredo::cli
