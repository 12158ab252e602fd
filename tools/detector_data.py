"""Compatibility path for scripts: the data loaders live in :mod:`connectors.training.data`."""

from connectors.training.data import *  # noqa: F403
from connectors.training.data import CFPB_CHARS, XED_LANGUAGES, DataError, Row, hash_split  # noqa: F401
