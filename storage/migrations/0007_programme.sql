-- The event programme: roadshows, forums and sessions loaded from the organizers' file.
-- Times are UTC ISO-8601 (the file is written in the event's zone and converted).
CREATE TABLE programme_sessions (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,  -- the file's own identifier; a reload updates by it
    kind       TEXT NOT NULL CHECK (kind IN ('roadshow', 'forum', 'session', 'other')),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    room       TEXT,
    speakers   TEXT NOT NULL DEFAULT '[]',  -- JSON list of names
    titles     TEXT NOT NULL,               -- JSON object: language code -> title
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX programme_sessions_start ON programme_sessions (starts_at);

-- Delegates who asked to be reminded of a session (once, shortly before it starts).
CREATE TABLE programme_reminders (
    delegate_id INTEGER NOT NULL REFERENCES delegates (id),
    session_id  INTEGER NOT NULL REFERENCES programme_sessions (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (delegate_id, session_id)
);
CREATE INDEX programme_reminders_session ON programme_reminders (session_id);
