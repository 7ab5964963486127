#!/usr/bin/python3
"""Checks the shape of the source tree (ctest: layout).

1. Dependencies point one way: core <- data, models <- sim <- experiments (data and models know
   nothing of each other), and sim/'s rooms (one folder per concept) include each other without a
   cycle: every folder-level include cycle is printed with the includes that close it.
2. No source file in core, data, models, sim or experiments is longer than --max-file-lines.
3. No function there is longer than --max-function-lines (from the line of its signature to its
   closing brace; lambdas count as part of the function that holds them).

Usage: scripts/check_layout.py [SOURCE_DIR] [--max-file-lines N] [--max-function-lines N] [--graph]
Exit status 0 when the tree holds to all three, 1 otherwise (each finding on its own line).
"""
import argparse
import pathlib
import re
import sys

TOP = {"core": 0, "data": 1, "models": 1, "sim": 2, "experiments": 3}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
NOT_FUNCTIONS = re.compile(r"\b(if|for|while|switch|catch|do|else|try|return)\s*$")
TYPE_BLOCK = re.compile(r"\b(class|struct|union|enum|namespace)\b[^()]*$")


def folder_of(path: pathlib.Path, root: pathlib.Path):
    """The folder a source file lives in for the dependency rules: 'core', ..., or 'sim/<room>'."""
    parts = path.relative_to(root).parts
    if parts[0] not in TOP:
        return None
    if parts[0] == "sim":
        return "sim/" + parts[1] if len(parts) > 2 else "sim"
    return parts[0]


def sources(root: pathlib.Path):
    for top in TOP:
        for path in sorted((root / top).rglob("*")):
            if path.suffix in (".h", ".cpp", ".inc") and path.is_file():
                yield path


def include_edges(root: pathlib.Path):
    """{(from_folder, to_folder): [(file, included header), ...]} over the tree's own includes."""
    edges = {}
    for path in sources(root):
        here = folder_of(path, root)
        for header in INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace")):
            target = root / header
            if not target.exists():
                continue  # a generated or system header
            there = folder_of(target, root)
            if there is None or there == here:
                continue
            edges.setdefault((here, there), []).append((str(path.relative_to(root)), header))
    return edges


def top_level_findings(edges):
    out = []
    for (a, b), where in sorted(edges.items()):
        ta, tb = a.split("/")[0], b.split("/")[0]
        if ta == tb:
            continue
        if TOP[ta] < TOP[tb] or (TOP[ta] == TOP[tb]):
            file, header = where[0]
            out.append(f"dependency: {ta}/ must not include {tb}/ ({file} includes {header}; the order is "
                       "core <- data, models <- sim <- experiments)")
    return out


def cycle_findings(edges):
    """Every elementary cycle among sim/ rooms, found by depth-first search from each room."""
    graph = {}
    for (a, b) in edges:
        if a.startswith("sim/") and b.startswith("sim/"):
            graph.setdefault(a, set()).add(b)
    cycles = set()

    def visit(start, node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                cycles.add(tuple(path))
            elif nxt not in path and nxt > start:
                visit(start, nxt, path + [nxt])

    for room in sorted(graph):
        visit(room, room, [room])
    out = []
    for cycle in sorted(cycles):
        ring = list(cycle) + [cycle[0]]
        steps = []
        for a, b in zip(ring, ring[1:]):
            file, header = edges[(a, b)][0]
            steps.append(f"{file} includes {header}")
        out.append("folder cycle: " + " -> ".join(ring) + " (" + "; ".join(steps) + ")")
    return out


def strip_code(text: str) -> str:
    """The text with comments, string and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_lengths(text: str):
    """(first line, last line, signature) of every function body in `text` (a heuristic parser:
    a brace block whose head ends in a parameter list, optionally followed by qualifiers or a
    constructor's initializer list, and is not a control statement, a lambda or a type)."""
    code = strip_code(text)
    code = re.sub(r"^\s*#.*$", lambda m: " " * len(m.group(0)), code, flags=re.M)
    found, stack, head_start = [], [], 0
    for pos, c in enumerate(code):
        if c in ";":
            head_start = pos + 1
        elif c == "{":
            head = code[head_start:pos]
            kind = "block"
            flat = " ".join(head.split())
            if stack and stack[-1][0] == "function":
                kind = "inner"
            elif TYPE_BLOCK.search(flat) or flat.endswith("=") or not flat:
                kind = "type"
            else:
                sig = re.sub(r"\s*(const|override|final|noexcept|mutable|volatile|&|&&)\s*$", "", flat)
                sig = re.sub(r"\)\s*->\s*[\w:<>,\s*&]+$", ")", sig)
                sig = re.sub(r"\)\s*:\s*[\w:]+\s*[({].*$", ")", sig)  # an initializer list
                while sig != (sig := re.sub(r"\s*(const|override|final|noexcept)\s*$", "", sig)):
                    pass
                if sig.endswith(")") and not NOT_FUNCTIONS.search(sig.split("(")[0]) and "](" not in sig.replace(" ", ""):
                    kind = "function"
            start_line = code.count("\n", 0, head_start + len(head) - len(head.lstrip())) + 1
            stack.append((kind, start_line, flat))
            head_start = pos + 1
        elif c == "}":
            if stack:
                kind, start_line, flat = stack.pop()
                if kind == "function":
                    found.append((start_line, code.count("\n", 0, pos) + 1, flat[:80]))
            head_start = pos + 1
    return found


def size_findings(root: pathlib.Path, max_file: int, max_function: int):
    out = []
    for path in sources(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root)
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        if lines > max_file:
            out.append(f"file: {rel} has {lines} lines (at most {max_file})")
        for first, last, sig in function_lengths(text):
            if last - first + 1 > max_function:
                out.append(f"function: {rel}:{first}: {last - first + 1} lines (at most {max_function}): {sig}")
    return out


def main():
    summary, _, details = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(summary.split()), epilog=details,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source_dir", nargs="?", default=str(pathlib.Path(__file__).resolve().parent.parent))
    parser.add_argument("--max-file-lines", type=int, default=400)
    parser.add_argument("--max-function-lines", type=int, default=60)
    parser.add_argument("--graph", action="store_true", help="print which sim/ room includes which, and stop")
    args = parser.parse_args()
    root = pathlib.Path(args.source_dir).resolve()
    edges = include_edges(root)
    if args.graph:
        graph = {}
        for (a, b) in edges:
            if a.startswith("sim/") and b.startswith("sim/"):
                graph.setdefault(a, set()).add(b)
        for room in sorted(graph, key=lambda r: (-len(graph[r]), r)):
            print(f"{room:16} -> {', '.join(sorted(graph[room]))}")
        return 0
    findings = top_level_findings(edges) + cycle_findings(edges) + size_findings(
        root, args.max_file_lines, args.max_function_lines)
    for f in findings:
        print(f)
    rooms = sorted({f for e in edges for f in e if f.startswith("sim/")})
    print(f"check_layout: {len(rooms)} sim/ rooms, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
