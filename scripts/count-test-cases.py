#!/usr/bin/env python3
"""Prints "N passed, N failed" from meson's JUnit logs, counting GoogleTest test cases.

A test executable that crashed before reporting its cases counts as one failed case, so a
crash can never disappear from the count.
"""
import sys
import xml.etree.ElementTree as ET


def main(paths: list) -> int:
    passed = failed = skipped = 0
    roots = []
    for path in paths:
        try:
            roots.append(ET.parse(path).getroot())
        except (OSError, ET.ParseError) as e:
            print(f"cannot read {path}: {e}", file=sys.stderr)
            failed += 1  # a run whose log is missing must not look clean
    for suite in (s for root in roots for s in root.iter("testsuite")):
        cases = list(suite.iter("testcase"))
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    if skipped:
        print(f"({skipped} skipped: each says why in the log)")
    # The last line, exactly: what CI reads.
    print(f"{passed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build-test/meson-logs/testlog.junit.xml"]))
