"""``handoff train``: rebuild the shipped detector weights from the public datasets.

A thin wrapper around :mod:`connectors.training.detectors` so that an operator rebuilds (or audits) the
weights with the same tool they run everything else with. Bad input never shows a stack trace: a missing
folder, file or column is reported with the path of the file and exit status 2, as is a missing training
extra (scikit-learn is never needed at run time, so it is not installed by default).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import click


class BadTrainingInput(click.ClickException):
    """Bad data, a missing output folder or a missing extra: exit 2, as the training tool does."""

    exit_code = 2


@click.command("train")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(path_type=Path),
    help="The datasets folder (goemotions/, xed/, bitext_customer_support/, cfpb_complaints_sample/, hwu64_…/).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the weights. [default: the installed package's handoff_core/data/detectors.npz]",
)
def train_cmd(data: Path, out: Path | None) -> None:
    """Rebuild the trained detectors' weights from the public datasets (needs the train extra)."""
    from connectors.training.data import DataError
    from connectors.training.detectors import WEIGHTS, load_rows, train

    target = out or WEIGHTS
    if not target.parent.is_dir():
        raise BadTrainingInput(f"{target.parent}: output folder does not exist")
    try:
        rows = load_rows(data)
    except DataError as exc:
        raise BadTrainingInput(str(exc)) from None
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise BadTrainingInput("training needs scikit-learn: pip install 'handoff-guard[train]'") from None
    card = train(rows, target)
    heads = card.get("heads")
    click.echo(f"wrote {target} ({len(heads) if isinstance(heads, dict) else 0} heads)")
    click.echo(f"sha256 {hashlib.sha256(target.read_bytes()).hexdigest()}")


def register(group: click.Group) -> None:
    """Add this module's commands to the ``handoff`` group."""
    group.add_command(train_cmd)
