"""The webhook worker: FastAPI app factory, lifespan, inbox processor and outbox lanes, health.

Import :func:`connectors.worker.app.create_app` to build the app. Vendor packages never import the
worker: their errors live at the bottom of ``connectors`` (:mod:`connectors.errors`), and import-linter
checks the layering.
"""
