"""Web-chat connector: request/response models (:mod:`schemas`, unknown fields rejected) and
authentication (:mod:`auth`, bearer secret or HMAC signature). The routes that decide a turn belong to
the worker (:mod:`connectors.worker.webchat_routes`), so this package never imports the worker.
"""
