"""Claims as handlers see them: the imported profile a link or a username points to."""

from __future__ import annotations

from storage.claims import ClaimTarget

__all__ = ["ClaimTarget"]
