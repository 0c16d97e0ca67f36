-- Wishes and auto-scheduling (issue 19).

-- Whom a delegate must meet, would like to meet, or does not want to meet. The counterpart is
-- never told until a meeting is proposed. `source` tells chat marks from an organizer's import.
CREATE TABLE wishes (
    delegate_id    INTEGER NOT NULL REFERENCES delegates (id),
    counterpart_id INTEGER NOT NULL REFERENCES delegates (id),
    priority       TEXT NOT NULL CHECK (priority IN ('must', 'maybe', 'no')),
    source         TEXT NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'import')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (delegate_id, counterpart_id),
    CHECK (delegate_id <> counterpart_id)
);
CREATE INDEX wishes_counterpart ON wishes (counterpart_id);

-- A meeting the scheduler proposed. A published proposal is a request that already holds its
-- table (table_name) and both people's busy_slots rows, so nobody books over it meanwhile.
ALTER TABLE meetings ADD COLUMN proposed INTEGER NOT NULL DEFAULT 0 CHECK (proposed IN (0, 1));

-- A table holds at most one meeting per slot, counting the proposals that reserve one.
DROP INDEX meetings_table_slot;
CREATE UNIQUE INDEX meetings_table_slot ON meetings (slot_start, table_name)
    WHERE state = 'accepted' OR (state = 'requested' AND table_name IS NOT NULL);

-- A reserving request that ends any other way than accepted (declined, expired, withdrawn,
-- replaced by another time, cancelled) frees both people's slot at once, whatever path closed it.
CREATE TRIGGER meetings_release_reservation AFTER UPDATE OF state ON meetings
    WHEN OLD.state = 'requested' AND NEW.state NOT IN ('requested', 'accepted')
BEGIN
    DELETE FROM busy_slots WHERE meeting_id = NEW.id;
END;
