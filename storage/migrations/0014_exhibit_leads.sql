-- Leads for exhibitors (issue 18): one row per visitor and exhibit, with what the visitor did
-- (scanned the booth QR, saved, asked for a meeting) and what the exhibitor wrote about them.
-- The exhibitor sees a visitor only once opted_in_at is set (the card's "Leave my card");
-- organizers see counts, never names.
CREATE TABLE exhibit_leads (
    id INTEGER PRIMARY KEY,
    exhibit_id INTEGER NOT NULL REFERENCES exhibits (id) ON DELETE CASCADE,
    delegate_id INTEGER NOT NULL REFERENCES delegates (id) ON DELETE CASCADE,
    scanned_at TEXT,
    saved_at TEXT,
    asked_at TEXT,
    opted_in_at TEXT,
    note TEXT CHECK (note IS NULL OR length(note) <= 500),
    score INTEGER CHECK (score IS NULL OR score BETWEEN 1 AND 5),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (exhibit_id, delegate_id)
);
CREATE INDEX exhibit_leads_delegate ON exhibit_leads (delegate_id);

-- A meeting request to an organization's exhibit: every representative of the organization
-- may answer it; the first to accept becomes the invitee, the others are told it is taken.
CREATE TABLE meeting_teams (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    delegate_id INTEGER NOT NULL REFERENCES delegates (id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, delegate_id)
);
