#!/usr/bin/env python3
"""Convert clang-tidy text output or a cppcheck --xml-version=2 report to SARIF 2.1.0.

Debian bookworm ships clang-tidy 14 (no SARIF output) and cppcheck 2.10
(SARIF output arrived in 2.13), so CI converts their native reports here and
uploads the result to GitHub code scanning. Standard library only: it runs in
the plain debian:bookworm container with nothing but python3 installed.

Usage:
  to_sarif.py clang-tidy REPORT.txt OUT.sarif [--root DIR] [--fail-on LEVELS]
  to_sarif.py cppcheck   REPORT.xml OUT.sarif [--root DIR] [--fail-on LEVELS]

--fail-on takes tool severities (clang-tidy: error,warning; cppcheck: error,
warning,style,performance,portability,information). The exit status is 1 when
a finding has one of them, 2 on unreadable input, 0 otherwise. The SARIF file
always holds every finding, whatever --fail-on says.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# clang-tidy: "/abs/src/a.cpp:12:5: warning: message [check-a,check-b]"
# With WarningsAsErrors the check list ends in ",-warnings-as-errors".
TIDY_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>warning|error): (?P<msg>.*?)(?: \[(?P<checks>[^\]]+)\])?$")

TOOL_INFO = {
    "clang-tidy": "https://clang.llvm.org/extra/clang-tidy/",
    "cppcheck": "https://cppcheck.sourceforge.io/",
}
# Severity in the tool's words -> SARIF level.
LEVELS = {
    "clang-tidy": {"error": "error", "warning": "warning"},
    "cppcheck": {
        "error": "error",
        "warning": "warning",
        "portability": "warning",
        "performance": "note",
        "style": "note",
        "information": "note",
    },
}
# cppcheck reports about its own run, not about the code.
CPPCHECK_META_IDS = {"missingInclude", "missingIncludeSystem", "checkersReport", "toomanyconfigs", "unmatchedSuppression"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # in the tool's words
    message: str
    path: str
    line: int
    column: int


def relative_uri(path: str, root: str) -> str:
    absolute = os.path.normpath(os.path.join(root, path)) if not os.path.isabs(path) else os.path.normpath(path)
    rel = os.path.relpath(absolute, root)
    if rel.startswith(".."):
        rel = absolute  # outside the repository: keep it absolute rather than invent a path
    return rel.replace(os.sep, "/")


def parse_clang_tidy(text: str, root: str) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[Finding] = set()
    for raw in text.splitlines():
        match = TIDY_LINE.match(raw.strip())
        if not match:
            continue
        checks = [c for c in (match.group("checks") or "clang-diagnostic").split(",") if c and c != "-warnings-as-errors"]
        finding = Finding(
            rule=checks[0] if checks else "clang-diagnostic",
            severity=match.group("sev"),
            message=match.group("msg").strip(),
            path=relative_uri(match.group("file"), root),
            line=int(match.group("line")),
            column=int(match.group("col")),
        )
        if finding not in seen:  # a header's finding repeats once per translation unit
            seen.add(finding)
            findings.append(finding)
    return findings


def parse_cppcheck(text: str, root: str) -> list[Finding]:
    tree = ET.fromstring(text)
    if tree.tag != "results" or tree.get("version") != "2":
        raise ValueError("not a cppcheck --xml-version=2 report")
    findings: list[Finding] = []
    for error in tree.iter("error"):
        rule = error.get("id", "cppcheck")
        if rule in CPPCHECK_META_IDS:
            continue
        locations = error.findall("location")
        # The first <location> is where cppcheck reports the finding (its text
        # output prints that one); the others are the path that led there.
        where = locations[0] if locations else None
        if where is None:
            continue
        findings.append(
            Finding(
                rule=rule,
                severity=error.get("severity", "warning"),
                message=error.get("msg", rule),
                path=relative_uri(where.get("file", ""), root),
                line=max(1, int(where.get("line", "1") or 1)),
                column=int(where.get("column", "0") or 0),
            )
        )
    return findings


def to_sarif(tool: str, version: str, findings: list[Finding]) -> dict:
    levels = LEVELS[tool]
    rule_ids = sorted({f.rule for f in findings})
    rule_index = {rule: i for i, rule in enumerate(rule_ids)}
    rules = []
    for rule in rule_ids:
        entry = {"id": rule, "name": rule, "shortDescription": {"text": rule}}
        if tool == "clang-tidy" and "-" in rule and not rule.startswith("clang-diagnostic"):
            group = "clang-analyzer" if rule.startswith("clang-analyzer-") else rule.partition("-")[0]
            entry["helpUri"] = f"https://clang.llvm.org/extra/clang-tidy/checks/{group}/{rule[len(group) + 1:]}.html"
        rules.append(entry)
    results = []
    for f in findings:
        region = {"startLine": f.line}
        if f.column >= 1:
            region["startColumn"] = f.column
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule],
                "level": levels.get(f.severity, "warning"),
                "message": {"text": f.message},
                "properties": {"severity": f.severity},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        }
                    }
                ],
            }
        )
    driver = {"name": tool, "informationUri": TOOL_INFO[tool], "rules": rules}
    if version:
        driver["version"] = version
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "columnKind": "utf16CodeUnits", "results": results}],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(LEVELS))
    parser.add_argument("report")
    parser.add_argument("output")
    parser.add_argument("--root", default=os.getcwd(), help="repository root; paths in the SARIF are relative to it")
    parser.add_argument("--fail-on", default="", help="comma-separated tool severities that make the exit status 1")
    parser.add_argument("--tool-version", default="", help="recorded as runs[0].tool.driver.version")
    args = parser.parse_args(argv)

    root = os.path.abspath(args.root)
    try:
        with open(args.report, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        findings = parse_clang_tidy(text, root) if args.tool == "clang-tidy" else parse_cppcheck(text, root)
    except (OSError, ValueError, ET.ParseError) as error:
        print(f"to_sarif: cannot read {args.report}: {error}", file=sys.stderr)
        return 2

    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(to_sarif(args.tool, args.tool_version, findings), handle, indent=2)
        handle.write("\n")

    fail_on = {s.strip() for s in args.fail_on.split(",") if s.strip()}
    failing = [f for f in findings if f.severity in fail_on]
    for f in findings:
        print(f"{f.path}:{f.line}:{f.column}: {f.severity}: {f.message} [{f.rule}]")
    print(f"to_sarif: {args.tool}: {len(findings)} finding(s), {len(failing)} at a failing severity ({','.join(sorted(fail_on)) or 'none'})")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
