// pg-test-cluster: runs the test cluster (pg_cluster.hpp) in the foreground for manual work
// and the README's examples. Prints how to connect, then waits for Ctrl-C or SIGTERM and
// stops it.
//
//   pg-test-cluster [--name NAME] [--dir DIR] [--set 'name = value']...

#include "pg_cluster.hpp"

#include <signal.h>

#include <cstring>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    laredo::testing::pg_cluster_options options;
    options.name = "manual";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--name" && has_value) {
            options.name = argv[++i];
        } else if (arg == "--dir" && has_value) {
            options.base_dir = argv[++i];
        } else if (arg == "--set" && has_value) {
            options.settings.emplace_back(argv[++i]);
        } else {
            std::cerr << "usage: " << argv[0]
                      << " [--name NAME] [--dir DIR] [--set 'name = value']...\n";
            return 2;
        }
    }

    // Block the signals before any thread or child exists, then wait for them synchronously.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    try {
        laredo::testing::pg_cluster cluster(options);
        std::cout << "port: " << cluster.port() << "\n"
                  << "conninfo: " << cluster.conninfo() << "\n"
                  << "tls_conninfo: host=localhost port=" << cluster.port()
                  << " user=postgres dbname=postgres sslmode=verify-full sslrootcert="
                  << cluster.ca_file() << "\n"
                  << "password_conninfo: host=127.0.0.1 port=" << cluster.port()
                  << " user=" << laredo::testing::pg_cluster::password_user
                  << " dbname=postgres (password: see tests/common/pg_cluster.hpp)\n"
                  << "replication_conninfo: " << cluster.conninfo() << " replication=database\n"
                  << "data_dir: " << cluster.data_dir() << "\n"
                  << "log: " << cluster.log_file() << "\n"
                  << "running; Ctrl-C stops and removes it" << std::endl;
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::cout << "stopping (" << strsignal(sig) << ")" << std::endl;
        cluster.stop();
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
