"""The watched pages' median times idle and while photos upload and PDFs are made, from the CSV
statistics of ``make load``'s first two runs: ``python tests/load/report.py IDLE HEAVY``.

Prints each watched request's median idle and under the heavy work, and the ratio; exits with 1
if any request of either run failed."""

import csv
import sys


def medians(path: str) -> dict[str, tuple[int, int, float]]:
    """Each request name's (count, failures, median ms) in a locust ``*_stats.csv``."""
    with open(path, newline="") as handle:
        return {
            row["Name"]: (
                int(row["Request Count"]),
                int(row["Failure Count"]),
                float(row["Median Response Time"]),
            )
            for row in csv.DictReader(handle)
            if row["Name"] != "Aggregated"
        }


def main(idle_path: str, heavy_path: str) -> int:
    idle, heavy = medians(idle_path), medians(heavy_path)
    print("\nWatched while 10 people upload 12 MP photos and 10 export portfolio PDFs:")
    print(f"{'request':<32}{'idle median':>14}{'busy median':>14}{'ratio':>8}")
    for name in sorted(n for n in idle if n.startswith("watch:")):
        before, after = idle[name][2], heavy.get(name, (0, 0, 0.0))[2]
        ratio = after / before if before else 0.0
        print(f"{name:<32}{before:>12.0f}ms{after:>12.0f}ms{ratio:>7.1f}x")
    print("\nThe heavy work itself (median):")
    for name, (count, failures, median) in sorted(heavy.items()):
        if not name.startswith("watch:"):
            print(f"  {name:<40}{count:>6} requests{failures:>4} failed{median:>10.0f} ms")
    failed = sum(f for _, f, _ in idle.values()) + sum(f for _, f, _ in heavy.values())
    if failed:
        print(f"\n{failed} requests failed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
