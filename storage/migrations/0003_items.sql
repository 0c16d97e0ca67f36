-- Offers and needs: what each delegate brings and seeks. An item typed in chat is saved after
-- every answer: a draft (complete = 0) carries the question being asked in `step`; a complete
-- item being edited carries the question too, and stays in matching with its saved values.
CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    delegate_id INTEGER NOT NULL REFERENCES delegates (id) ON DELETE CASCADE,
    side        TEXT NOT NULL CHECK (side IN ('offer', 'need')),
    -- 1000 characters (at most 2000 UTF-16 units) leaves room in a 4096-unit message for the
    -- name, organization, field names and reasons shown around it. NULL only in a new draft
    -- that waits for its text.
    text        TEXT CHECK (text IS NULL OR length(text) BETWEEN 1 AND 1000),
    kind        TEXT CHECK (kind IS NULL OR length(kind) BETWEEN 1 AND 40),
    trl         INTEGER CHECK (trl IS NULL OR trl BETWEEN 1 AND 9),
    ip_status   TEXT CHECK (ip_status IS NULL OR ip_status IN ('granted', 'pending', 'none')),
    fields      TEXT NOT NULL DEFAULT '',  -- space-separated field codes, confirmed order
    complete    INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)),
    step        TEXT CHECK (step IS NULL OR step IN ('text', 'kind', 'trl', 'ip', 'fields')),
    imported    INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK (complete = 1 OR step IS NOT NULL),
    CHECK (text IS NOT NULL OR (complete = 0 AND step = 'text'))
);

CREATE INDEX items_by_delegate ON items (delegate_id, id);
-- Typed text answers one question: a delegate has at most one item with a pending step.
CREATE UNIQUE INDEX items_one_question ON items (delegate_id) WHERE step IS NOT NULL;
-- The import keeps one item per side and delegate.
CREATE UNIQUE INDEX items_imported ON items (delegate_id, side) WHERE imported = 1;

-- What a delegate did about a counterpart: hid them, showed interest, or was told of the match.
CREATE TABLE match_marks (
    delegate_id INTEGER NOT NULL REFERENCES delegates (id) ON DELETE CASCADE,
    other_id    INTEGER NOT NULL REFERENCES delegates (id) ON DELETE CASCADE,
    mark        TEXT NOT NULL CHECK (mark IN ('hidden', 'interested', 'announced')),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (delegate_id, other_id, mark),
    CHECK (delegate_id <> other_id)
) WITHOUT ROWID;

CREATE INDEX match_marks_other ON match_marks (other_id);

ALTER TABLE delegates ADD COLUMN notify_matches INTEGER NOT NULL DEFAULT 1
    CHECK (notify_matches IN (0, 1));
