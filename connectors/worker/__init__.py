"""The webhook worker: FastAPI app factory, lifespan, inbox and outbox processors, health.

Import :func:`connectors.worker.app.create_app` to build the app. This package's ``__init__`` imports
nothing so that connectors can import :mod:`connectors.worker.errors` without a cycle.
"""
