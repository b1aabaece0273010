-- parley on PostgreSQL: the same tables as on SQLite (see
-- migrations/sqlite/0001_initial.sql for what each holds), in PostgreSQL's
-- types. Integers are BIGINT, bytes BYTEA; "user" is quoted (a keyword).

-- The record format this database holds (protocol v2).
CREATE TABLE parley_format (version BIGINT NOT NULL);
INSERT INTO parley_format (version) VALUES (2);

CREATE TABLE peer (
    party     TEXT PRIMARY KEY,
    url       TEXT NOT NULL,
    identity  TEXT NOT NULL,
    added_at  BIGINT NOT NULL
);

CREATE TABLE feed (
    channel   TEXT NOT NULL,
    author    TEXT NOT NULL,
    size      BIGINT NOT NULL,
    root      BYTEA NOT NULL,
    PRIMARY KEY (channel, author)
);

CREATE TABLE entry (
    channel      TEXT NOT NULL,
    author       TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         BYTEA NOT NULL,
    kind         TEXT NOT NULL,
    time         BIGINT NOT NULL,
    bytes        BYTEA NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (channel, author, seq)
);
CREATE UNIQUE INDEX entry_by_hash ON entry (hash);
CREATE INDEX entry_by_time ON entry (channel, time);
CREATE INDEX entry_by_recency ON entry (time DESC, received_at DESC);
CREATE INDEX entry_by_kind ON entry (kind);

CREATE TABLE entry_ref (
    channel   TEXT NOT NULL,
    author    TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    ref_hash  BYTEA NOT NULL,
    PRIMARY KEY (channel, author, seq, ref_hash)
);
CREATE INDEX entry_ref_by_target ON entry_ref (ref_hash);

CREATE TABLE tile (
    channel  TEXT NOT NULL,
    author   TEXT NOT NULL,
    level    SMALLINT NOT NULL,
    idx      BIGINT NOT NULL,
    data     BYTEA NOT NULL,
    PRIMARY KEY (channel, author, level, idx)
);

CREATE TABLE checkpoint (
    channel  TEXT NOT NULL,
    author   TEXT NOT NULL,
    size     BIGINT NOT NULL,
    note     TEXT NOT NULL,
    PRIMARY KEY (channel, author, size)
);

CREATE TABLE cosignature (
    -- The order this store received them in (taken under a lock held to
    -- commit, so they become visible in that order).
    stored     BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    channel    TEXT NOT NULL,
    author     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    cosigner   TEXT NOT NULL,
    statement  TEXT NOT NULL CHECK (statement IN ('receipt', 'witness')),
    time       BIGINT NOT NULL,
    line       TEXT NOT NULL,
    PRIMARY KEY (channel, author, size, cosigner, statement, time)
);
CREATE INDEX cosignature_by_cosigner ON cosignature (cosigner, statement, time);
CREATE INDEX cosignature_by_feed_stored ON cosignature (channel, author, stored);

CREATE TABLE delivery (
    peer      TEXT NOT NULL,
    channel   TEXT NOT NULL,
    author    TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('push', 'witness', 'shared')),
    size      BIGINT NOT NULL,
    PRIMARY KEY (peer, channel, author, role)
);

CREATE TABLE witness_log (
    origin   TEXT PRIMARY KEY,
    party    TEXT NOT NULL,
    source   TEXT NOT NULL
);

CREATE TABLE witnessed (
    origin  TEXT PRIMARY KEY,
    size    BIGINT NOT NULL,
    root    BYTEA NOT NULL,
    note    TEXT NOT NULL
);

CREATE TABLE evidence (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('equivocation', 'future_dated')),
    origin       TEXT NOT NULL,
    party        TEXT NOT NULL,
    detected_at  BIGINT NOT NULL,
    detected_by  TEXT NOT NULL,
    summary      TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    proven       BOOLEAN NOT NULL
);

CREATE TABLE key_rotation (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    party        TEXT NOT NULL,
    role         TEXT NOT NULL,
    statement    TEXT NOT NULL UNIQUE,
    recorded_at  BIGINT NOT NULL
);

-- Append-only: the trigger refuses any change to a recorded action.
CREATE TABLE action_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time    BIGINT NOT NULL,
    "user"  TEXT NOT NULL,
    role    TEXT NOT NULL,
    client  TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    entry   TEXT,
    outcome TEXT NOT NULL
);
CREATE FUNCTION action_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the action log is append-only'; END $$;
CREATE TRIGGER action_log_no_change BEFORE UPDATE OR DELETE ON action_log
FOR EACH ROW EXECUTE FUNCTION action_log_append_only();
CREATE TRIGGER action_log_no_truncate BEFORE TRUNCATE ON action_log
FOR EACH STATEMENT EXECUTE FUNCTION action_log_append_only();

CREATE TABLE read_mark (
    "user"  TEXT NOT NULL,
    hash    BYTEA NOT NULL,
    PRIMARY KEY ("user", hash)
);
