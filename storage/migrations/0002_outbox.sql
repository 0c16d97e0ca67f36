-- The outbox: every message the bot owes someone that is not the direct answer to their action.
-- A row is written in the same transaction as the change that caused it.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    delegate_id INTEGER REFERENCES delegates (id),
    priority    INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 99),
    -- Either the text (and buttons) written at enqueue time, or a template rendered at send time
    -- in the recipient's language.
    text        TEXT CHECK (text IS NULL OR length(text) BETWEEN 1 AND 4096),
    buttons     TEXT CHECK (buttons IS NULL OR json_valid(buttons)),
    template    TEXT CHECK (template IS NULL OR length(template) BETWEEN 1 AND 100),
    params      TEXT CHECK (params IS NULL OR json_valid(params)),
    not_before  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    state       TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'dropped', 'dead')),
    dedupe_key  TEXT UNIQUE,
    last_error  TEXT,
    sent_at     TEXT,
    message_id  INTEGER,
    CHECK ((text IS NULL) <> (template IS NULL)),
    CHECK (buttons IS NULL OR text IS NOT NULL),
    CHECK (params IS NULL OR template IS NOT NULL),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);

-- The sender's claim walks this index in sending order.
CREATE INDEX outbox_due ON outbox (priority, not_before, id) WHERE state = 'pending';
-- One item per chat at a time: the claim looks up a chat's pending and in-flight items.
CREATE INDEX outbox_pending_by_chat ON outbox (chat_id, priority, not_before, id)
    WHERE state = 'pending';
CREATE INDEX outbox_in_flight ON outbox (chat_id) WHERE state = 'sending';
CREATE INDEX outbox_dead ON outbox (updated_at) WHERE state = 'dead';

-- Reachability is decided per chat (a 403, a my_chat_member update).
CREATE INDEX delegates_chat ON delegates (chat_id);
