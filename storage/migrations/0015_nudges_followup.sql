-- Issue 19, items 3 and 6: nudges to delegates without meetings, and what came of meetings.

-- The /profile toggle: suggest my best matches when I have no meeting booked (1) or never (0).
ALTER TABLE delegates ADD COLUMN nudges INTEGER NOT NULL DEFAULT 1 CHECK (nudges IN (0, 1));

-- Months after a held meeting each side says what came of it, once per stage (days after the
-- meeting, from [followup] after_days); a later press changes the answer.
CREATE TABLE meeting_results (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    delegate_id INTEGER NOT NULL REFERENCES delegates (id),
    after_days  INTEGER NOT NULL CHECK (after_days BETWEEN 1 AND 3650),
    result      TEXT NOT NULL CHECK (result IN ('licence', 'joint_rd', 'investment', 'supply',
                                                'continuing', 'nothing')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (meeting_id, delegate_id, after_days)
);
