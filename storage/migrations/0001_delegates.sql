-- Delegates: one row per person, created by /start (a draft) or later by an import.
CREATE TABLE delegates (
    id                INTEGER PRIMARY KEY,
    telegram_user_id  INTEGER UNIQUE,
    chat_id           INTEGER,
    locale            TEXT CHECK (locale IS NULL OR locale IN ('en', 'zh', 'ru', 'ko', 'ar')),
    name              TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 80),
    organization      TEXT CHECK (organization IS NULL OR length(organization) BETWEEN 1 AND 120),
    country           TEXT CHECK (country IS NULL OR length(country) = 2),
    role              TEXT CHECK (role IS NULL OR role IN
                          ('company', 'university', 'institute', 'investor', 'agency',
                           'government')),
    meeting_languages TEXT NOT NULL DEFAULT '',
    contact           TEXT CHECK (contact IS NULL OR length(contact) <= 80),
    contact_kind      TEXT CHECK (contact_kind IS NULL OR contact_kind IN ('email', 'phone')),
    consent           INTEGER CHECK (consent IS NULL OR consent IN (0, 1)),
    step              TEXT NOT NULL DEFAULT 'language',
    editing           INTEGER NOT NULL DEFAULT 0 CHECK (editing IN (0, 1)),
    reachable         INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    registered_at     TEXT,
    deleted_at        TEXT
);

CREATE INDEX delegates_registered ON delegates (registered_at) WHERE deleted_at IS NULL;
