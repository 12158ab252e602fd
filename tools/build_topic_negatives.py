"""Rebuild handoff_core/data/topic_negatives.txt from the shared datasets.

See connectors/training/topic_negatives.py for what is chosen and why.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.training.data import DataError, default_datasets  # noqa: E402
from connectors.training.topic_negatives import write  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=default_datasets())
    parser.add_argument("--out", type=Path, default=ROOT / "handoff_core" / "data" / "topic_negatives.txt")
    args = parser.parse_args()
    try:
        print(f"{write(args.data, args.out)} questions -> {args.out}")
    except DataError as exc:
        raise SystemExit(f"error: {exc}") from None
