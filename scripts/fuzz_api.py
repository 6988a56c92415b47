"""The long Schemathesis run: every operation of /api/v1/openapi.json, anonymously and as each
role, with many examples (the suite runs the same checks with a few; tests/fuzzing.py).

    .venv/bin/python scripts/fuzz_api.py --examples 200
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/fuzz .venv/bin/python scripts/fuzz_api.py

In-process (Flask's test client): no server, no network. Uses TEST_DATABASE_URL when set (its
tables are dropped and recreated), else SQLite in memory. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from tests.conftest import REAL_BANK_DIR, mini_bank_content, write_bank
    from tests.fuzzing import ROLES, build, fuzz, teardown

    parser = argparse.ArgumentParser(description="Schemathesis over the API, per role.")
    parser.add_argument("--examples", type=int, default=200, help="examples per operation, mode and role")
    parser.add_argument("--roles", nargs="*", default=list(ROLES), choices=ROLES)
    parser.add_argument("--real-bank", action="store_true", help="the full question bank, not the mini one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bank = REAL_BANK_DIR if args.real_bank else write_bank(Path(tmp) / "bank", *mini_bank_content())
        target = build(bank)
        started = time.perf_counter()
        try:
            for role in args.roles:
                failures = fuzz(target, role, args.examples)
                print(f"{role:14s} {len(failures)} failing operation(s)", flush=True)
                for failure in failures:
                    print("  " + failure.replace("\n", "\n  "))
        finally:
            teardown(target)
    print(f"{target.calls} calls in {time.perf_counter() - started:.0f} s; "
          f"{len(target.failures)} failing operation(s) in all")
    return 1 if target.failures else 0


if __name__ == "__main__":
    sys.exit(main())
