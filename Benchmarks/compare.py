#!/usr/bin/env python3
"""Sets sootbench's figures beside the Python peers' and prints a Markdown table with ratios.

Usage: compare.py SOOTBENCH.json PEER.json
"""
import json
import sys

ours = {t["name"]: t["seconds"] for t in json.load(open(sys.argv[1]))}
peer = json.load(open(sys.argv[2]))
print("versions:", ", ".join(f"{k} {v}" for k, v in peer["versions"].items() if v))
print()
print("| primitive | sootctl s | peer | peer s | speed-up |")
print("|---|---|---|---|---|")
peers = {t["name"]: t for t in peer["timings"]}
for name, seconds in ours.items():
    p = peers.get(name)
    if p:
        print(f"| {name} | {seconds:.4f} | {p['peer']} | {p['seconds']:.4f} | {p['seconds'] / seconds:.1f}x |")
    else:
        print(f"| {name} | {seconds:.4f} | - | - | - |")
