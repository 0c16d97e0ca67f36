-- Delegates imported by the organizers (`matchmaker import-delegates`) and the claim links that
-- bind an imported profile to the Telegram account that opens it.

-- 'chat': registered by talking to the bot; 'import': created from the organizers' file.
ALTER TABLE delegates ADD COLUMN source TEXT NOT NULL DEFAULT 'chat'
    CHECK (source IN ('chat', 'import'));
-- The organizers' own id for the delegate; imports insert or update by it.
ALTER TABLE delegates ADD COLUMN external_id TEXT
    CHECK (external_id IS NULL OR length(external_id) BETWEEN 1 AND 64);
-- Without the @; Telegram usernames are ASCII and case-insensitive.
ALTER TABLE delegates ADD COLUMN telegram_username TEXT COLLATE NOCASE
    CHECK (telegram_username IS NULL OR length(telegram_username) BETWEEN 4 AND 32);
-- The delegate who answers meeting requests for this one, by external_id (may be imported later).
ALTER TABLE delegates ADD COLUMN host_external_id TEXT
    CHECK (host_external_id IS NULL OR length(host_external_id) BETWEEN 1 AND 64);
-- The profile has one contact: an imported e-mail becomes it, else the phone; when the file
-- gives both, the phone is kept here so nothing the organizers sent is lost.
ALTER TABLE delegates ADD COLUMN second_contact TEXT
    CHECK (second_contact IS NULL OR length(second_contact) <= 80);
-- What the last import wrote (JSON of the profile columns and the offer/need texts): a re-import
-- changes a column only while it still holds that value, so a delegate's own edits in chat win.
ALTER TABLE delegates ADD COLUMN import_data TEXT
    CHECK (import_data IS NULL OR json_valid(import_data));
-- The private link token ("c_" + random): single use; it stays after binding so a second
-- account opening the link can be told that it was used.
ALTER TABLE delegates ADD COLUMN claim_token TEXT
    CHECK (claim_token IS NULL OR (length(claim_token) BETWEEN 10 AND 64
                                   AND claim_token GLOB 'c_*'));
ALTER TABLE delegates ADD COLUMN claimed_at TEXT;
-- When an account answered "No" to "Are you <name>?" (matched by username): not asked again.
ALTER TABLE delegates ADD COLUMN claim_declined_at TEXT;

CREATE UNIQUE INDEX delegates_external_id ON delegates (external_id)
    WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX delegates_claim_token ON delegates (claim_token)
    WHERE claim_token IS NOT NULL;
CREATE INDEX delegates_telegram_username ON delegates (telegram_username COLLATE NOCASE)
    WHERE telegram_username IS NOT NULL;
