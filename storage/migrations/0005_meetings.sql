-- Meetings: requests and booked meetings between two delegates in one slot of the schedule.
-- Slot times are UTC ISO-8601 (the schedule is written in the event's zone and converted).
CREATE TABLE meetings (
    id           INTEGER PRIMARY KEY,
    requester_id INTEGER NOT NULL REFERENCES delegates (id),
    invitee_id   INTEGER NOT NULL REFERENCES delegates (id),  -- the one who must answer
    slot_start   TEXT NOT NULL,
    slot_end     TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'requested'
                     CHECK (state IN ('requested', 'accepted', 'declined', 'expired',
                                      'withdrawn', 'cancelled', 'rescheduled')),
    table_name   TEXT,
    note         TEXT CHECK (note IS NULL OR length(note) <= 300),
    reason       TEXT CHECK (reason IS NULL OR length(reason) <= 500),
    expires_at   TEXT NOT NULL,
    replaces_id  INTEGER REFERENCES meetings (id),
    cancelled_by INTEGER REFERENCES delegates (id),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CHECK (requester_id <> invitee_id),
    CHECK (slot_end > slot_start),
    CHECK (state <> 'accepted' OR table_name IS NOT NULL)
);

-- A table holds at most one meeting per slot.
CREATE UNIQUE INDEX meetings_table_slot ON meetings (slot_start, table_name)
    WHERE state = 'accepted';
-- One pending request per pair and slot.
CREATE UNIQUE INDEX meetings_pending_pair ON meetings (requester_id, invitee_id, slot_start)
    WHERE state = 'requested';
CREATE INDEX meetings_requester ON meetings (requester_id, slot_start);
CREATE INDEX meetings_invitee ON meetings (invitee_id, slot_start);
CREATE INDEX meetings_expiry ON meetings (expires_at) WHERE state = 'requested';
CREATE INDEX meetings_accepted_start ON meetings (slot_start) WHERE state = 'accepted';

-- What occupies a person in a slot: an accepted meeting or a block they set in /agenda.
-- A person holds at most one row per slot, so nobody is ever in two meetings at once, nor in a
-- meeting during a slot they blocked. Rows of a meeting live exactly as long as it is accepted.
CREATE TABLE busy_slots (
    delegate_id INTEGER NOT NULL REFERENCES delegates (id),
    slot_start  TEXT NOT NULL,
    meeting_id  INTEGER REFERENCES meetings (id),  -- NULL: blocked by the delegate
    created_at  TEXT NOT NULL,
    PRIMARY KEY (delegate_id, slot_start)
);
CREATE INDEX busy_slots_meeting ON busy_slots (meeting_id) WHERE meeting_id IS NOT NULL;

-- Public booking links: unguessable, replaceable; they never bind a Telegram account.
CREATE TABLE booking_tokens (
    token       TEXT PRIMARY KEY CHECK (token LIKE 'b\_%' ESCAPE '\'),
    delegate_id INTEGER NOT NULL REFERENCES delegates (id),
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE UNIQUE INDEX booking_tokens_live ON booking_tokens (delegate_id) WHERE revoked_at IS NULL;

-- Per-delegate meeting preferences.
CREATE TABLE meeting_prefs (
    delegate_id      INTEGER PRIMARY KEY REFERENCES delegates (id),
    reminder_minutes INTEGER NOT NULL CHECK (reminder_minutes IN (0, 5, 15, 30, 60)),
    updated_at       TEXT NOT NULL
);

-- After the meeting: each participant's answer to "did it take place?", rating and note.
CREATE TABLE meeting_feedback (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    delegate_id INTEGER NOT NULL REFERENCES delegates (id),
    outcome     TEXT NOT NULL CHECK (outcome IN ('held', 'no_show', 'late_cancel')),
    rating      INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    note        TEXT CHECK (note IS NULL OR length(note) <= 500),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (meeting_id, delegate_id)
);
