-- Talk before the meeting, and a colleague or an interpreter at the table (issue 19, items 4-5).

-- Interpreters register as a role (an organization type) of their own, in chat and in imports.
-- SQLite cannot alter a CHECK constraint, and rebuilding `delegates` (referenced by every other
-- table) would also drop columns other features add; SQLite's documented way for a change that
-- leaves the stored rows valid is to edit the table's definition in the schema (ALTER TABLE,
-- "Making Other Kinds Of Table Schema Changes"). Every existing row stays valid: the list only
-- grows. The new tables below change the schema cookie, so other connections reload it.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, '''agency'',
                           ''government'')', '''agency'',
                           ''government'', ''interpreter'')')
 WHERE type = 'table' AND name = 'delegates' AND sql NOT LIKE '%''interpreter''%';
PRAGMA writable_schema = RESET;

-- A short message one side of a request or meeting sent the other through the bot. The text is
-- kept with the language it was written in (`language` NULL: no letters to tell) and how that
-- was known: the writer's own language matching the script, or a guess from the script alone.
-- `outbox_id` is the relayed copy (no foreign key: erasing a recipient deletes their outbox
-- rows); `bounced_at` is set once the writer has been told that it could not be delivered.
CREATE TABLE meeting_messages (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    author_id   INTEGER NOT NULL REFERENCES delegates (id),
    recipient_id INTEGER NOT NULL REFERENCES delegates (id),
    body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    language    TEXT CHECK (language IS NULL OR length(language) BETWEEN 2 AND 8),
    language_basis TEXT NOT NULL CHECK (language_basis IN ('profile', 'script', 'none')),
    outbox_id   INTEGER,
    bounced_at  TEXT,
    created_at  TEXT NOT NULL,
    CHECK (author_id <> recipient_id)
);
CREATE INDEX meeting_messages_meeting ON meeting_messages (meeting_id, id);
CREATE INDEX meeting_messages_recent ON meeting_messages (created_at) WHERE bounced_at IS NULL;

-- Someone a party brings to a booked meeting: a colleague of their organization or an
-- interpreter. Each party brings at most one; the guest's slot is held in busy_slots with the
-- meeting's id (so they are never in two meetings at once, and cancelling frees them too).
CREATE TABLE meeting_guests (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    guest_id   INTEGER NOT NULL REFERENCES delegates (id),
    added_by   INTEGER NOT NULL REFERENCES delegates (id),
    kind       TEXT NOT NULL CHECK (kind IN ('colleague', 'interpreter')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, guest_id),
    UNIQUE (meeting_id, added_by),
    CHECK (guest_id <> added_by)
);
CREATE INDEX meeting_guests_guest ON meeting_guests (guest_id);
