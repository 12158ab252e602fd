"""Rebuilding the shipped detector weights from public data (``handoff train``; training only).

Lives outside the pure core because it reads files and needs scikit-learn (the ``train`` extra); the core
only ever *reads* the weights it writes. ``data`` fixes every split in code; ``detectors`` fits the heads.
"""
