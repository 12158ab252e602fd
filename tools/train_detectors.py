"""Rebuild handoff_core/data/detectors.npz: the same as ``handoff train`` (see connectors/training/detectors.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.training.detectors import main

if __name__ == "__main__":
    raise SystemExit(main())
