// Commands that run here: `config check` (laredo-server --check) and `version`.

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

namespace laredo::cli {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// laredo-server next to this binary (an installation), beside it in the build tree, or on PATH.
std::string server_binary() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const auto& candidate :
             {self.parent_path() / "laredo-server",
              self.parent_path().parent_path() / "laredo-server" / "laredo-server"})
            if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return "laredo-server";  // execvp searches PATH
}

int run_server_check(const std::vector<std::string>& args) {
    std::vector<std::string> argv_s{server_binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw call_failed("cannot start laredo-server: fork failed");
    if (pid == 0) {
        ::execvp(argv[0], argv.data());
        std::cerr << "laredo: cannot run " << argv_s[0]
                  << ": not next to laredo nor on PATH\n  next: install laredo-server, or put "
                     "it on PATH\n";
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        const int code = WEXITSTATUS(status);
        return code == 127 ? exit_failed : code;
    }
    return exit_failed;
}

void add_config(CLI::App& app, session& s) {
    auto* group = app.add_subcommand("config", "the server's configuration, checked here");
    group->require_subcommand(1);
    auto* check = group->add_subcommand(
        "check", "check a configuration file without starting it (laredo-server --check)");
    auto file = std::make_shared<std::string>();
    auto conf_dir = std::make_shared<std::string>();
    auto sets = std::make_shared<std::vector<std::string>>();
    check->add_option("file", *file, "the main TOML file")->required();
    check->add_option("--conf-dir", *conf_dir, "*.toml files merged after it");
    check->add_option("--set", *sets, "KEY=VALUE override (repeatable)");
    s.on_run(check, [file, conf_dir, sets] {
        std::vector<std::string> args{"--config", *file, "--check"};
        if (!conf_dir->empty()) args.insert(args.end(), {"--conf-dir", *conf_dir});
        for (const auto& kv : *sets) args.insert(args.end(), {"--set", kv});
        return run_server_check(args);
    });
}

void add_version(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand("version", "this CLI's version and the server's");
    s.on_run(cmd, [&s] {
        json::object v{{"client", LAREDO_CLI_VERSION}, {"server", nullptr}};
        std::string unreachable;
        try {
            const auto status = s.client().get("/v1/status");
            if (const auto* sv = find_path(status, "version")) v["server"] = *sv;
        } catch (const call_failed& e) {
            unreachable = e.what();
        }
        auto render = [&unreachable](const json::value& x, std::size_t) {
            std::string out = "laredo " + text_at(x, "client") + "\n";
            out += unreachable.empty() ? "laredo-server " + text_at(x, "server") + "\n"
                                       : "laredo-server: " + unreachable + "\n";
            return out;
        };
        s.print(v, render);
        return exit_ok;
    });
}

}  // namespace

void add_local_commands(CLI::App& app, session& s) {
    add_config(app, s);
    add_version(app, s);
}

}  // namespace laredo::cli
