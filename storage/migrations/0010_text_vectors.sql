-- The encoder's vector of each item text, so a restart does not re-embed. The key is the
-- SHA-256 of the encoder version and the text (bot.domain.encoding.text_key): a new model
-- version gets new keys and the old rows are pruned. No text is stored here.
CREATE TABLE text_vectors (
    key TEXT PRIMARY KEY,
    encoder TEXT NOT NULL,
    dim INTEGER NOT NULL CHECK (dim > 0),
    vector BLOB NOT NULL,  -- float16, little-endian, dim values
    created_at TEXT NOT NULL
);
CREATE INDEX text_vectors_encoder ON text_vectors (encoder);
