#!/usr/bin/env python3
"""Prints the benchmark tables of docs/BENCHMARKS.md from criterion's saved estimates.

Usage, after `cargo bench --bench handshake --bench records --bench chat`
(`--bench handshake_phases` prints its own table):
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


hs = {n: median_ns("handshake", n)
      for n in ["securecom", "rustls", "snow", "floor", "floor_repeated_inputs"]}
print("| handshake, both sides | median | securecom / this | target |")
print("|---|---|---|---|")
targets = {"floor": "≤ 1.10", "rustls": "≤ 0.70", "snow": "≤ 0.85"}
for n in ["securecom", "floor", "floor_repeated_inputs", "rustls", "snow"]:
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

chat_dir = os.path.join(root, "chat_handshake")
if os.path.isdir(chat_dir):
    ch = {n: median_ns("chat_handshake", n) for n in ["securecom", "floor"]}
    print()
    print("| chat handshake, both sides | median | securecom / this |")
    print("|---|---|---|")
    print(f"| securecom | {fmt(ch['securecom'])} | — |")
    print(f"| floor | {fmt(ch['floor'])} | {ch['securecom'] / ch['floor']:.2f} |")

    m = {n: median_ns("message", n) for n in
         ["a_send", "relay", "b_receive", "total", "aead_e2e_seal_open",
          "aead_record_a_seal_open", "aead_record_b_seal_open", "aead_floor"]}
    relay_floor = (m["aead_record_a_seal_open"] + m["aead_record_b_seal_open"]) / 2
    print()
    print("| one message A -> relay -> B | median | AEAD floor of that share | ratio |")
    print("|---|---|---|---|")
    print(f"| A: send_text + output | {fmt(m['a_send'])} | | |")
    print(f"| relay: handle_input + output | {fmt(m['relay'])} | {fmt(relay_floor)} "
          f"(open A's record, seal B's) | {m['relay'] / relay_floor:.2f} |")
    print(f"| B: handle_input + event | {fmt(m['b_receive'])} | | |")
    print(f"| total | {fmt(m['total'])} | {fmt(m['aead_floor'])} | "
          f"{m['total'] / m['aead_floor']:.2f} |")
    print(f"| AEAD parts: e2e {fmt(m['aead_e2e_seal_open'])}, record A "
          f"{fmt(m['aead_record_a_seal_open'])}, record B {fmt(m['aead_record_b_seal_open'])} | | | |")

    e_dir = os.path.join(root, "message", "endpoint_total")
    if os.path.isdir(e_dir):
        e = {n: median_ns("message", "endpoint_" + n) for n in
             ["a_send", "relay", "b_receive", "total"]}
        direct = {"a_send": m["a_send"], "relay": m["relay"], "b_receive": m["b_receive"],
                  "total": m["total"]}
        labels = {"a_send": "A: send + transmit", "relay": "server: input + transmit",
                  "b_receive": "B: input + event", "total": "total"}
        print()
        print("| one message through the endpoints | endpoint | machine direct | endpoint / direct |")
        print("|---|---|---|---|")
        for k in ["a_send", "relay", "b_receive", "total"]:
            print(f"| {labels[k]} | {fmt(e[k])} | {fmt(direct[k])} | {e[k] / direct[k]:.2f} |")
        print(f"| total / AEAD floor | {e['total'] / m['aead_floor']:.2f} | "
              f"{m['total'] / m['aead_floor']:.2f} | |")

    r_dir = os.path.join(root, "ratchet")
    if os.path.isdir(r_dir):
        r = {n: median_ns("ratchet", n) for n in
             ["same_speaker_seal_open", "change_of_speaker_seal_open", "x25519_keygen_and_two_dh"]}
        step = r["change_of_speaker_seal_open"] - r["same_speaker_seal_open"]
        print()
        print("| one text, sealed and opened (session level) | median | / same speaker |")
        print("|---|---|---|")
        print(f"| same speaker (no ratchet step) | {fmt(r['same_speaker_seal_open'])} | 1.00 |")
        print(f"| change of speaker (a ratchet step) | {fmt(r['change_of_speaker_seal_open'])} | "
              f"{r['change_of_speaker_seal_open'] / r['same_speaker_seal_open']:.2f} |")
        print(f"| floor of a step: X25519 key generation and two agreements | "
              f"{fmt(r['x25519_keygen_and_two_dh'])} | |")
        print(f"\nratchet step cost (change - same) / its floor: "
              f"{step / r['x25519_keygen_and_two_dh']:.2f}")
