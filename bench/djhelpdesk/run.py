"""django-helpdesk side by side: build its database, measure it, write JSON.

    python bench/djhelpdesk/run.py --size 10k --runs 7

Standard library only, so any Python >= 3.10 can start it (``make bench``
calls it with the project's interpreter). It

1. creates the virtualenv ``var/bench/djh-venv`` (never the project's
   .venv) and installs bench/djhelpdesk/requirements.txt into it (again
   only when that file changes);
2. builds (or reuses, see dataset.py's marker) the PostgreSQL database
   ``djh_<size>`` with bench/djhelpdesk/dataset.py;
3. measures the pages with bench/djhelpdesk/measure.py and writes
   ``var/bench/djhelpdesk-<size>.json``:
   ``{"pages": {key: {"median_ms", "spread_ms", "queries", ...}},
   "version": "x.y.z", ...}`` with keys list_all, ticket, ticket_200,
   dashboard, api_list.

PostgreSQL: DJH_PGHOST / DJH_PGPORT / DJH_PGUSER (default
127.0.0.1:5432, postgres, trust authentication as in the project's CI).
"""

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REQUIREMENTS = HERE / "requirements.txt"
sys.path.insert(0, str(ROOT))

from bench.sizes import parse_size, size_label  # noqa: E402


def ensure_venv(venv):
    """Create the venv and install the pinned requirements when they changed."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"[djh] creating virtualenv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / ".djh-requirements.sha256"
    if not stamp.exists() or stamp.read_text().strip() != digest:
        print(f"[djh] installing {REQUIREMENTS.relative_to(ROOT)}", flush=True)
        subprocess.run(  # noqa: S603  (the venv's pip, our pinned file)
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        stamp.write_text(digest + "\n")
    return python


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Measure django-helpdesk at the same size as our benchmark."
    )
    parser.add_argument("--size", required=True, help="tickets: 10000, 10k, 100k, 1m")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the database even if its marker matches"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds one request may take (recorded as a timeout)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=240.0,
        help="seconds of timed runs per page before stopping early",
    )
    parser.add_argument("--pages", help="comma-separated subset of the pages")
    parser.add_argument("--venv", default=str(ROOT / "var" / "bench" / "djh-venv"))
    parser.add_argument("--output", help="default var/bench/djhelpdesk-<size>.json")
    parser.add_argument(
        "--drop", action="store_true", help="drop the djh_<size> database when done"
    )
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    label = size_label(size)
    database = f"djh_{label}"
    output = Path(args.output or ROOT / "var" / "bench" / f"djhelpdesk-{label}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    python = ensure_venv(Path(args.venv))

    env = dict(os.environ)
    env.update(
        DJH_DATABASE=database,
        DJANGO_SETTINGS_MODULE="bench.djhelpdesk.settings",
        PYTHONPATH=str(ROOT),
    )
    env.pop("DATABASE_URL", None)
    started = time.monotonic()
    build = [str(python), "-m", "bench.djhelpdesk.dataset", "--size", str(size)]
    if args.rebuild:
        build.append("--rebuild")
    subprocess.run(build, check=True, cwd=ROOT, env=env)  # noqa: S603
    print(f"[djh] measuring django-helpdesk at {label} ({args.runs} runs)", flush=True)
    measure = [
        str(python),
        "-m",
        "bench.djhelpdesk.measure",
        "--runs",
        str(args.runs),
        "--timeout",
        str(args.timeout),
        "--budget",
        str(args.budget),
        "--output",
        str(output),
    ]
    if args.pages:
        measure += ["--pages", args.pages]
    subprocess.run(measure, check=True, cwd=ROOT, env=env)  # noqa: S603
    if args.drop:
        subprocess.run(  # noqa: S603
            [
                str(python),
                "-c",
                "import sys; from bench.djhelpdesk.dataset import drop_database; "
                "drop_database(sys.argv[1])",
                database,
            ],
            check=True,
            cwd=ROOT,
            env=env,
        )
    print(f"[djh] wrote {output} in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
