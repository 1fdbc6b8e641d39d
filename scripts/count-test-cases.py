#!/usr/bin/env python3
"""Prints "N passed, N failed" from meson's JUnit logs, counting GoogleTest test cases.

A test executable that failed without a failing case (it crashed before reporting its cases,
or a sanitizer failed it at exit, e.g. ThreadSanitizer's exit code 66 after every case
passed) counts as one failed case, so such a failure can never disappear from the count.
Meson's JUnit log keeps only the cases of a GoogleTest executable, so the executable's own
result is read from testlog.json beside it.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

FAILED_RESULTS = {"FAIL", "ERROR", "TIMEOUT", "INTERRUPT", "UNEXPECTEDPASS"}


def case_failed(case) -> bool:
    return case.find("failure") is not None or case.find("error") is not None


def executable_results(junit_path: str) -> list:
    """(name, result) of every meson test of the run that wrote junit_path."""
    path = os.path.join(os.path.dirname(junit_path), "testlog.json")
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
                    out.append((entry["name"], entry["result"]))
    except (OSError, ValueError, KeyError) as e:
        print(f"cannot read {path}: {e}", file=sys.stderr)
    return out


def main(paths: list) -> int:
    passed = failed = skipped = 0
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"cannot read {path}: {e}", file=sys.stderr)
            failed += 1  # a run whose log is missing must not look clean
            continue
        # Failing cases per meson test; suites are named "<project>.<test name>.<suite>".
        failing_cases = {}
        for suite in root.iter("testsuite"):
            # (a test without GoogleTest's log is a suite named "<project>" holding one case
            # named after the test).
            parts = suite.attrib.get("name", "").split(".", 1)
            for case in suite.iter("testcase"):
                test_name = parts[1] if len(parts) > 1 else case.attrib.get("name", "")
                if case_failed(case):
                    failed += 1
                    failing_cases[test_name] = failing_cases.get(test_name, 0) + 1
                elif case.find("skipped") is not None:
                    skipped += 1
                else:
                    passed += 1
        for name, result in executable_results(path):
            if result not in FAILED_RESULTS:
                continue
            has_failing_case = any(
                key == name or key.startswith(name + ".") for key in failing_cases)
            if not has_failing_case:
                print(f"{name}: failed ({result}) with no failing case; counted as one",
                      file=sys.stderr)
                failed += 1
    if skipped:
        print(f"({skipped} skipped: each says why in the log)")
    # The last line, exactly: what CI reads.
    print(f"{passed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build-test/meson-logs/testlog.junit.xml"]))
