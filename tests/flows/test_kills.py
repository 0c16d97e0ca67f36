"""kill -9 of `matchmaker run` at three points of a broadcast and of a booking burst.

The full sizes (2,000 recipients, 200 pairs) are `python -m benchmarks.kills`; this runs the
same scenarios smaller so the suite keeps the property true.
"""

from __future__ import annotations

from benchmarks import kills


async def test_sigkill_at_three_points_loses_nothing_and_repeats_only_what_was_in_flight() -> None:
    result = await kills.run(recipients=300, pairs=30)
    assert result["kills"] == 6
    assert result["broadcast_missed"] == 0
    assert result["meetings_lost"] == 0 and result["participants_unconfirmed"] == 0
    assert isinstance(result["broadcast_duplicates"], int)
    assert isinstance(result["broadcast_in_flight_at_kills"], int)
    assert result["broadcast_duplicates"] <= result["broadcast_in_flight_at_kills"]
    assert isinstance(result["confirmation_duplicates"], int)
    assert isinstance(result["booking_in_flight_at_kills"], int)
    assert result["confirmation_duplicates"] <= result["booking_in_flight_at_kills"]
