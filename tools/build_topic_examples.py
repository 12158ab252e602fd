"""Rebuild the Bitext-derived default topic example files from the shared datasets.

See connectors/training/topic_examples.py for what is chosen and why.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.training.data import DataError, default_datasets  # noqa: E402
from connectors.training.topic_examples import write  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=default_datasets())
    parser.add_argument("--out", type=Path, default=ROOT / "handoff_core" / "policy" / "default" / "lexicons" / "en")
    args = parser.parse_args()
    try:
        for name, count in write(args.data, args.out).items():
            print(f"{count} examples -> {args.out / name}")
    except DataError as exc:
        raise SystemExit(f"error: {exc}") from None
