-- The achievements catalogue: exhibits from the organizers' file, keyed by their `key`.
-- Texts per language are JSON objects (language -> text) in the file's column order; the
-- token is the booth QR's x_ deep link. Search vectors live in exhibit_vectors (one row per
-- encoder version and text, like text_vectors, so the item index's pruning never meets them).
CREATE TABLE exhibits (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL UNIQUE,
    organization TEXT NOT NULL,
    owner_external_id TEXT,
    booth TEXT,
    hall TEXT,
    titles TEXT NOT NULL,  -- JSON: language -> title
    descriptions TEXT NOT NULL DEFAULT '{}',  -- JSON: language -> description
    trl INTEGER CHECK (trl BETWEEN 1 AND 9),
    ip_status TEXT CHECK (ip_status IN ('granted', 'pending', 'none')),
    deal_kinds TEXT NOT NULL DEFAULT '[]',  -- JSON list
    roadshow TEXT,
    image_url TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX exhibits_owner ON exhibits (owner_external_id);

-- A visitor's shortlist (/saved).
CREATE TABLE exhibit_saves (
    delegate_id INTEGER NOT NULL REFERENCES delegates (id) ON DELETE CASCADE,
    exhibit_id INTEGER NOT NULL REFERENCES exhibits (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (delegate_id, exhibit_id)
);

CREATE TABLE exhibit_vectors (
    key TEXT PRIMARY KEY,
    encoder TEXT NOT NULL,
    dim INTEGER NOT NULL CHECK (dim > 0),
    vector BLOB NOT NULL,  -- float16, little-endian, dim values
    created_at TEXT NOT NULL
);
