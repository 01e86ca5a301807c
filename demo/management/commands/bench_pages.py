"""Serve the key pages many times in this process and report queries and median times."""

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError

from demo.benchmark import FLOOR, key_pages, measure


class Command(BaseCommand):
    help = (
        "Serve each key page REPEAT times as the person who opens it, in this process, and "
        "print its queries, its median time and the ratio to a trivial page. Needs a seeded "
        "centre (seed_demo --learners N)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--json", dest="json_path", help="also write the figures to this file")

    def handle(self, *args, repeat: int, json_path: str | None, **options):
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        results = measure(key_pages(), repeat=repeat)
        broken = [r for r in results if r.status != 200]
        if broken:
            raise CommandError(
                "Some pages did not answer 200: "
                + ", ".join(f"{r.label} ({r.status})" for r in broken)
            )
        floor = next(r.median_ms for r in results if r.label == FLOOR)
        self.stdout.write(f"{'page':<38} {'queries':>7} {'median ms':>9} {'x floor':>7}")
        for r in results:
            self.stdout.write(
                f"{r.label:<38} {r.queries:>7} {r.median_ms:>9.1f} {r.median_ms / floor:>7.1f}"
            )
        if json_path:
            with open(json_path, "w") as out:
                json.dump([asdict(r) for r in results], out, indent=1)
