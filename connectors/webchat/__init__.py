"""Web-chat connector: the widget or AI assistant posts messages and gets the decision back synchronously.

Modules: :mod:`schemas` (request/response models, unknown fields rejected), :mod:`auth` (bearer secret or
HMAC signature), :mod:`routes` (``POST /v1/webchat/messages`` and ``/v1/webchat/conversations``).
"""
