-- The venue board's secret (`matchmaker board-link`): the live one has revoked_at NULL;
-- `board-link --new` revokes it and adds another, so an old screen link stops working.
CREATE TABLE board_links (
    id INTEGER PRIMARY KEY,
    secret TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX board_links_one_live ON board_links ((1)) WHERE revoked_at IS NULL;
