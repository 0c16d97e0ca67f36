"""Our python-telegram-bot plug-ins: HTTP client, per-user update order, limiter."""
