-- Transient failures are retried for as long as a message still makes sense, not 5 times.
-- expires_at: when the item stops making sense (a reminder: its meeting's start); NULL means
-- its kind's retry horizon after created_at (MATCHMAKER_RETRY_HORIZONS).
ALTER TABLE outbox ADD COLUMN expires_at TEXT;
-- Why a dead letter was given up on, for organizers: Telegram refused it (400), it kept
-- failing until it expired, or it could not be written.
ALTER TABLE outbox ADD COLUMN dead_reason TEXT
    CHECK (dead_reason IS NULL OR dead_reason IN ('refused', 'expired', 'render'));

-- Dead letters written before: refusals and render failures say so in their error; the rest
-- ran out of attempts during an outage, which is what expired means now.
UPDATE outbox SET dead_reason = CASE
        WHEN last_error LIKE 'BadRequest:%' THEN 'refused'
        WHEN last_error LIKE 'render failed:%' THEN 'render'
        ELSE 'expired'
    END
    WHERE state = 'dead';

CREATE INDEX outbox_dead_by_reason ON outbox (dead_reason) WHERE state = 'dead';
