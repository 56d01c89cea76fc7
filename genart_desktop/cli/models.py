"""``genart models [--json]``: every model folder the registry found, its status and the provider that would run it.

Works without a display (no Qt import); a rejected folder shows the reason so the user can fix or remove it. Every
name is printed escaped (core/text.py), so a card or folder name cannot add lines or terminal escapes.
"""

from __future__ import annotations

import argparse
import json
import sys

from genart_desktop.core.text import shown
from genart_desktop.engine.registry import ModelRegistry

NAME = "models"
HELP = "List the models found (shipped and per-user), rejected folders with the reason, and the execution provider."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    registry = ModelRegistry()
    entries = registry.entries()
    choice = registry.provider_choice()
    rows = []
    for entry in entries:
        row = entry.to_dict()
        row["provider"] = registry.would_run(entry)
        rows.append(row)
    if args.json:
        payload = {
            "provider": {"name": choice.provider, "label": choice.label, "requested": choice.requested,
                         "reason": choice.reason},
            "search_paths": [{"path": str(path), "source": source} for path, source in registry.roots()],
            "models": rows,
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"Execution provider: {choice.describe()}")
    for path, source in registry.roots():
        print(f"Searching {source} models in {shown(path)}")
    if not rows:
        print("No models found.")
        return 0
    headers = ("ID", "NAME", "FAMILY", "STATUS", "PROVIDER")
    # Names come from cards and folder names: escaped, so no cell can forge a row.
    table = [tuple(shown(cell, 60) for cell in (r["id"], r["name"], r["family"] or "-", r["status"],
                                                r["provider"] or "-")) for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *table)]
    print()
    for line in (headers, *table):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
    rejected = [r for r in rows if r["status"] != "ok"]
    if rejected:
        print()
        print("Rejected:")
        for row in rejected:
            print(f"  {shown(row['id'], 60)}: {shown(row['reason'], 1000)}")
    ok = len(rows) - len(rejected)
    print()
    print(f"{ok} model{'s' if ok != 1 else ''} ready, {len(rejected)} rejected.")
    return 0
