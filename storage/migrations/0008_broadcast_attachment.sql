-- An optional photo or document sent with a broadcast, by the file_id Telegram gave it.
-- Each copy carries it with the recipient's version of the text as its caption.
ALTER TABLE broadcasts ADD COLUMN attachment_kind TEXT
    CHECK (attachment_kind IS NULL OR attachment_kind IN ('photo', 'document'));
ALTER TABLE broadcasts ADD COLUMN attachment_file_id TEXT;
