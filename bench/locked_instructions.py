#!/usr/bin/env python3
"""Counts the locked instructions a callgrind profile executed.

An instruction count weighs every instruction alike, but a locked one (a lock-prefixed
read-modify-write such as a CAS or a fetch_sub, an xchg with memory, an mfence) waits for the
core's store buffer to drain and costs tens of cycles. This reads a profile written by
`valgrind --tool=callgrind --dump-instr=yes`, disassembles every object it ran code of with
objdump, and adds up the executions of the locked instructions in each.

Usage: bench/locked_instructions.py CALLGRIND_OUT [--sites N]
Prints the total; with --sites, then the N sites executed most, each as its executions, the
instruction, the object and the function. bench/instructions.sh --locked calls it.
"""
import argparse
import collections
import re
import subprocess
import sys

LOCKED = re.compile(r"(lock |xchg\s+\S*\(|mfence)")


def next_position(token, previous):
    # callgrind compresses positions: "+n" and "-n" are relative to the previous cost line's
    # address, "*" repeats it.
    if token == "*":
        return previous
    if token[0] in "+-":
        return previous + int(token, 0)
    return int(token, 0)


def executions_by_object(path):
    """{object path: Counter(address -> executions)}, self cost only."""
    names = {}
    costs = collections.defaultdict(collections.Counter)
    current = None
    address = 0
    call_cost_next = False
    with open(path) as profile:
        for text in profile:
            if text.startswith(("ob=", "cob=")):
                # An object is named once, where it first appears (as the current object or
                # as a callee's), and by its number after that.
                match = re.match(r"c?ob=\((\d+)\)(?: (.*))?", text.strip())
                if match.group(2):
                    names[match.group(1)] = match.group(2)
                if text.startswith("ob="):
                    current = match.group(1)
                continue
            if not (text[0].isdigit() or text[0] in "+-*"):
                # The line after calls= is the call's inclusive cost, not this object's.
                call_cost_next = text.startswith("calls=")
                continue
            # Address, source line (unused here), cost.
            fields = text.split()
            address = next_position(fields[0], address)
            if call_cost_next:
                call_cost_next = False
                continue
            costs[current][address] += int(fields[-1])
    return {names[key]: value for key, value in costs.items() if key in names}


def locked_sites(obj, executions):
    """(executions, instruction, function) of each locked instruction of `obj` that ran."""
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-C", obj], capture_output=True, text=True
    ).stdout
    function = "?"
    for text in listing.splitlines():
        header = re.match(r"^([0-9a-f]+) <(.*)>:$", text)
        if header:
            function = header.group(2)
            continue
        instruction = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", text)
        if instruction and LOCKED.match(instruction.group(2)):
            count = executions.get(int(instruction.group(1), 16), 0)
            if count:
                yield count, " ".join(instruction.group(2).split()[:2]), function


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    parser.add_argument("--sites", type=int, default=0)
    arguments = parser.parse_args()
    sites = []
    for obj, executions in executions_by_object(arguments.profile).items():
        if obj.startswith("/"):
            sites += [(count, instruction, obj.split("/")[-1], function)
                      for count, instruction, function in locked_sites(obj, executions)]
    print(sum(site[0] for site in sites))
    for count, instruction, obj, function in sorted(sites, reverse=True)[: arguments.sites]:
        print(f"{count:>12} {instruction:<24} {obj}: {function[:100]}")


if __name__ == "__main__":
    sys.exit(main())
