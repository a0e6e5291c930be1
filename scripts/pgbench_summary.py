#!/usr/bin/env python3
"""One markdown table row from a pgbench run: tps from its report, latency percentiles
from its per-transaction logs (-l), retries and failures.

usage: pgbench_summary.py SYSTEM CLIENTS REPORT LOG...
Log lines: client_id transaction_no latency_us script_no epoch epoch_us [retries]
(pgbench 15 with --max-tries appends the retries of each transaction); a failed
transaction's latency is 'failed'.
"""
import re
import sys


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> None:
    system, clients, report = sys.argv[1], sys.argv[2], sys.argv[3]
    latencies, retried = [], 0
    for path in sys.argv[4:]:
        with open(path) as log:
            for line in log:
                fields = line.split()
                if len(fields) < 6:
                    continue
                if fields[2] != "failed":
                    latencies.append(int(fields[2]) / 1000.0)
                if len(fields) >= 7 and fields[6].isdigit() and int(fields[6]) > 0:
                    retried += 1
    latencies.sort()
    text = open(report).read()
    tps = re.search(r"tps = ([0-9.]+)", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    print(
        f"| {clients} | {system} | {float(tps.group(1)) if tps else float('nan'):.0f} "
        f"| {percentile(latencies, 50):.2f} | {percentile(latencies, 95):.2f} "
        f"| {percentile(latencies, 99):.2f} | {retried} | {failed.group(1) if failed else '?'} |"
    )


if __name__ == "__main__":
    main()
