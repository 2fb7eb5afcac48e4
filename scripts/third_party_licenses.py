#!/usr/bin/env python3
"""Writes the licences of every crate built into the topicscope binary, from `cargo metadata`.

Usage: scripts/third_party_licenses.py [--target TRIPLE] OUTPUT.md

Walks the resolved dependency graph from topicscope along normal and build dependencies (not
dev-dependencies) for one target, and writes a Markdown report: a table of crate, version,
licence expression and repository, then each distinct licence text found in the crates'
sources (LICENSE*, LICENCE*, COPYING*, NOTICE*, UNLICENSE), once, with the crates that ship it.

Fails (exit 1) when a crate declares no licence at all, or when a licence expression has no
accepted choice (ACCEPTED below), so a new dependency under an unexpected licence stops the
packaging instead of shipping unnoticed. Needs only python3 and cargo.
"""

import hashlib
import json
import os
import re
import subprocess
import sys

# Licences the binary may ship under (an expression passes when one of its OR-alternatives is
# made only of these). Add to this list only after reading the licence.
ACCEPTED = {
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "Unlicense",
    "CC0-1.0",
    "BSL-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "OFL-1.1",
    "Ubuntu-font-1.0",
    "LicenseRef-UFL-1.0",
    "MPL-2.0",
    "OpenSSL",
    "NCSA",
    "0BSD",
    "bzip2-1.0.6",
    "CDLA-Permissive-2.0",
}

MIT_TEMPLATE = """Copyright (c) <year> <copyright holders>

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""

LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|UNLICENSE)", re.IGNORECASE)


def accepted(expression):
    """True when the SPDX expression can be satisfied with ACCEPTED licences (AND binds tighter
    than OR; "/" is the old spelling of OR; "X WITH Y" is one licence)."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expression.replace("/", " OR "))
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def licence():
        if peek() == "(":
            take()
            value = any_of()
            if take() != ")":
                raise ValueError(expression)
            return value
        name = take()
        if peek() == "WITH":
            take()
            name = f"{name} WITH {take()}"
        return name in ACCEPTED

    def all_of():
        value = licence()
        while peek() == "AND":
            take()
            value = licence() and value
        return value

    def any_of():
        value = all_of()
        while peek() == "OR":
            take()
            value = all_of() or value
        return value

    try:
        value = any_of()
        return value and position == len(tokens)
    except (ValueError, IndexError, TypeError):
        return False


def main():
    args = sys.argv[1:]
    target = None
    if len(args) >= 2 and args[0] == "--target":
        target, args = args[1], args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    output = args[0]
    if target is None:
        host = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
        target = re.search(r"^host: (\S+)$", host, re.MULTILINE).group(1)

    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", target],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    root = metadata["resolve"]["root"]

    shipped = set()
    todo = [root]
    while todo:
        node_id = todo.pop()
        if node_id in shipped:
            continue
        shipped.add(node_id)
        for dep in nodes[node_id]["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds - {"dev"}:
                todo.append(dep["pkg"])
    shipped.discard(root)

    crates = sorted((packages[i] for i in shipped), key=lambda p: (p["name"], p["version"]))
    problems = []
    texts = {}  # digest -> (text, [crate names])
    rows = []
    for crate in crates:
        label = f'{crate["name"]} {crate["version"]}'
        expression = crate.get("license") or ""
        if not expression and crate.get("license_file"):
            expression = f'see {os.path.basename(crate["license_file"])}'
        if not expression:
            problems.append(f"{label}: declares no licence")
        elif crate.get("license") and not accepted(expression):
            problems.append(f"{label}: licence {expression!r} is not in the accepted list")
        folder = os.path.dirname(crate["manifest_path"])
        found = []
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if LICENSE_FILE.match(name) and os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read().strip()
                digest = hashlib.sha256(text.encode()).hexdigest()[:12]
                texts.setdefault(digest, (name, text, []))[2].append(label)
                found.append(digest)
        rows.append((crate["name"], crate["version"], expression, crate.get("repository") or "", found))

    with open(output, "w", encoding="utf-8") as out:
        out.write("# Third-party licences\n\n")
        out.write(
            f"TopicScope is built from {len(rows)} crates besides its own code (target {target}). "
            "Each is listed with its licence expression; the licence texts the crates ship follow, "
            "each once. Generated by scripts/third_party_licenses.py from `cargo metadata`.\n\n"
        )
        out.write("| crate | version | licence | repository | texts |\n|---|---|---|---|---|\n")
        for name, version, expression, repository, found in rows:
            refs = " ".join(f"[{d}](#{d})" for d in found) or "(none shipped)"
            out.write(f"| {name} | {version} | {expression} | {repository} | {refs} |\n")
        out.write("\n## Licence texts\n")
        for digest, (name, text, users) in sorted(texts.items(), key=lambda item: item[1][2][0]):
            out.write(f'\n<a id="{digest}"></a>\n### {digest}: {name}\n\n')
            out.write("Shipped by: " + ", ".join(users) + "\n\n")
            out.write("```text\n" + text.replace("```", "'''") + "\n```\n")

        unshipped = [f"{name} {version}" for name, version, _, _, found in rows if not found]
        if unshipped:
            root_dir = os.path.dirname(os.path.abspath(__file__)) + "/.."
            with open(os.path.join(root_dir, "LICENSE-APACHE"), encoding="utf-8") as handle:
                apache = handle.read().strip()
            out.write(
                "\n## Crates that ship no licence text\n\n"
                f"{len(unshipped)} crates declare their licence only in Cargo.toml ("
                + ", ".join(unshipped)
                + "). The standard texts of those licences apply; MIT and Apache-2.0, which cover "
                "most of them, follow.\n\n### MIT\n\n```text\n" + MIT_TEMPLATE + "\n```\n"
                "\n### Apache-2.0\n\n```text\n" + apache + "\n```\n"
            )

    if problems:
        print("third_party_licenses: " + "\n  ".join(["licence problems:"] + problems), file=sys.stderr)
        sys.exit(1)
    print(f"third_party_licenses: {len(rows)} crates, {len(texts)} distinct licence texts -> {output}")


if __name__ == "__main__":
    main()
