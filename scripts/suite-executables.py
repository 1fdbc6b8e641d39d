#!/usr/bin/env python3
"""Prints the executables (as ninja targets, relative to the build directory) of the meson
tests in the given suites, one per line: `suite-executables.py BUILD_DIR SUITE...`."""
import json
import os
import subprocess
import sys


def main(build: str, suites: list) -> int:
    out = subprocess.run(["meson", "introspect", build, "--tests"], check=True,
                         capture_output=True, text=True).stdout
    wanted = set(suites)
    root = os.path.realpath(build)
    targets = set()
    for test in json.loads(out):
        # meson names suites "project:suite".
        names = {s.split(":", 1)[-1] for s in test.get("suite", [])}
        if names & wanted:
            targets.add(os.path.relpath(os.path.realpath(test["cmd"][0]), root))
    for t in sorted(targets):
        print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
