#!/usr/bin/env python3
"""Prints the benchmark tables of docs/BENCHMARKS.md from criterion's saved estimates.

Usage, after `cargo bench --bench handshake --bench records`:
    python3 benches/ratios.py [TARGET_DIR]        (default: ./target)
Medians of the last run; ratios are taken between benchmarks of that same run.
"""
import json
import os
import sys

root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "target", "criterion")


def median_ns(*path):
    with open(os.path.join(root, *path, "new", "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt(ns):
    return f"{ns / 1000:.1f} µs" if ns >= 10_000 else f"{ns:.0f} ns"


hs = {n: median_ns("handshake", n) for n in ["securecom", "rustls", "snow", "floor"]}
print("| handshake, both sides | median | securecom / this | target |")
print("|---|---|---|---|")
targets = {"floor": "≤ 1.10", "rustls": "≤ 0.70", "snow": "≤ 0.85"}
for n in ["securecom", "floor", "rustls", "snow"]:
    ratio = "—" if n == "securecom" else f"{hs['securecom'] / hs[n]:.2f}"
    print(f"| {n} | {fmt(hs[n])} | {ratio} | {targets.get(n, '')} |")

print()
parts = ["x25519_keygen", "x25519_keygen_and_dh", "ed25519_sign", "ed25519_verify_strict",
         "ed25519_verify_strict_cert", "key_schedule_one_side"]
print("| floor part | median |")
print("|---|---|")
for p in parts:
    print(f"| {p} | {fmt(median_ns('floor_parts', p))} |")

print()
diag = ["verify_server_chain_with_crl", "verify_server_chain_without_crl",
        "ed25519_key_decompress", "rustls_handshake_without_crls"]
print("| diagnosis | median |")
print("|---|---|")
for d in diag:
    print(f"| {d} | {fmt(median_ns('diagnosis', d))} |")
print(f"\nsecurecom / rustls without CRLs: "
      f"{hs['securecom'] / median_ns('diagnosis', 'rustls_handshake_without_crls'):.2f}")

print()
print("| record seal+open | securecom | aes-gcm raw | rustls | snow | securecom / raw | "
      "raw / securecom throughput | securecom / rustls | securecom / snow |")
print("|---|---|---|---|---|---|---|---|---|")
for size in ["64", "1024", "16384"]:
    r = {n: median_ns("record", n, size) for n in ["securecom", "aes_gcm_raw", "rustls", "snow"]}
    s = r["securecom"]
    print(f"| {size} B | {fmt(s)} | {fmt(r['aes_gcm_raw'])} | {fmt(r['rustls'])} | "
          f"{fmt(r['snow'])} | {s / r['aes_gcm_raw']:.2f} | {r['aes_gcm_raw'] / s:.0%} | "
          f"{s / r['rustls']:.2f} | {s / r['snow']:.2f} |")
print()
print("| record | aes-gcm raw, payload + 1 byte | securecom / that |")
print("|---|---|---|")
for size in ["64", "1024", "16384"]:
    k = median_ns("record", "aes_gcm_raw_plus_kind_byte", size)
    print(f"| {size} B | {fmt(k)} | {median_ns('record', 'securecom', size) / k:.2f} |")
