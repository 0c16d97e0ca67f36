-- Organizers beyond the configured ids: one-time invite codes (stored hashed) and the accounts
-- that redeemed them.
CREATE TABLE organizer_invites (
    id         INTEGER PRIMARY KEY,
    code_hash  TEXT NOT NULL UNIQUE CHECK (length(code_hash) = 64),
    created_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    INTEGER,
    CHECK ((used_at IS NULL) = (used_by IS NULL))
);

CREATE TABLE organizers (
    telegram_user_id INTEGER PRIMARY KEY,
    invite_id        INTEGER NOT NULL UNIQUE REFERENCES organizer_invites (id),
    created_at       TEXT NOT NULL
);

-- Broadcasts: a draft while the organizer writes it (the wizard's state survives a restart),
-- then sending, done or cancelled. Its outbox items carry dedupe keys 'bc:<id>:<delegate id>'.
CREATE TABLE broadcasts (
    id              INTEGER PRIMARY KEY,
    organizer_id    INTEGER NOT NULL,             -- Telegram user id of the author
    chat_id         INTEGER NOT NULL,             -- where the wizard and the progress live
    locale          TEXT NOT NULL,                -- the organizer's language for reports
    state           TEXT NOT NULL DEFAULT 'draft'
                        CHECK (state IN ('draft', 'sending', 'done', 'cancelled')),
    step            TEXT NOT NULL DEFAULT 'language',
    main_locale     TEXT,                         -- the language of the first version
    versions        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(versions)),
    audience_kind   TEXT CHECK (audience_kind IS NULL OR audience_kind IN
                        ('all', 'language', 'country', 'role', 'today', 'field')),
    audience_value  TEXT,
    total           INTEGER NOT NULL DEFAULT 0,
    excluded        INTEGER NOT NULL DEFAULT 0,   -- unreachable delegates left out
    progress_message_id INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);
CREATE UNIQUE INDEX broadcasts_one_draft ON broadcasts (organizer_id) WHERE state = 'draft';
CREATE INDEX broadcasts_sending ON broadcasts (id) WHERE state = 'sending';

-- What organizers did, for the record: who, when, what.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER NOT NULL,                  -- Telegram user id, 0 for the command line
    action     TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 40),
    subject    TEXT,
    detail     TEXT CHECK (detail IS NULL OR json_valid(detail)),
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (created_at);
