-- The record format this database holds (protocol v2: one key per
-- statement). Databases of earlier formats are refused, not migrated.
CREATE TABLE parley_format (version INTEGER NOT NULL);
INSERT INTO parley_format (version) VALUES (2);

-- Parties whose keys this node has pinned: their identity file
-- (parley-identity/v1: log, receipt, witness and node keys).
CREATE TABLE peer (
    party     TEXT PRIMARY KEY,
    url       TEXT NOT NULL,
    identity  TEXT NOT NULL,
    added_at  INTEGER NOT NULL
);

-- One row per feed this node holds: its own, and its copies of peers'.
CREATE TABLE feed (
    channel   TEXT NOT NULL,
    author    TEXT NOT NULL,
    size      INTEGER NOT NULL,
    root      BLOB NOT NULL,
    PRIMARY KEY (channel, author)
);

-- Entries, stored as the exact canonical bytes that were signed.
CREATE TABLE entry (
    channel      TEXT NOT NULL,
    author       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    hash         BLOB NOT NULL,
    kind         TEXT NOT NULL,
    time         INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (channel, author, seq)
);
CREATE UNIQUE INDEX entry_by_hash ON entry (hash);
CREATE INDEX entry_by_time ON entry (channel, time);
CREATE INDEX entry_by_kind ON entry (kind);

-- Which entries reference which (for "answered by" and back-links).
CREATE TABLE entry_ref (
    channel   TEXT NOT NULL,
    author    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    ref_hash  BLOB NOT NULL,
    PRIMARY KEY (channel, author, seq, ref_hash)
);
CREATE INDEX entry_ref_by_target ON entry_ref (ref_hash);

-- C2SP tlog-tiles hashes of every feed.
CREATE TABLE tile (
    channel  TEXT NOT NULL,
    author   TEXT NOT NULL,
    level    INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (channel, author, level, idx)
);

-- Every signed checkpoint of every feed, as the log-signed note.
CREATE TABLE checkpoint (
    channel  TEXT NOT NULL,
    author   TEXT NOT NULL,
    size     INTEGER NOT NULL,
    note     TEXT NOT NULL,
    PRIMARY KEY (channel, author, size)
);

-- Cosignatures, one signature line each, with the statement they make:
-- 'receipt' (a member stored the feed: peers' receipts of this node's
-- feeds, and this node's own receipts of peers' feeds) or 'witness' (a
-- witness saw no other history). Only a receipt is proof of delivery. A
-- witness cosigns an unchanged checkpoint again from time to time, so one
-- cosigner may hold several times for one size: the earliest is when it
-- first held that size, the latest that it still had nothing newer.
CREATE TABLE cosignature (
    channel    TEXT NOT NULL,
    author     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    cosigner   TEXT NOT NULL,
    statement  TEXT NOT NULL CHECK (statement IN ('receipt', 'witness')),
    time       INTEGER NOT NULL,
    line       TEXT NOT NULL,
    PRIMARY KEY (channel, author, size, cosigner, statement, time)
);
CREATE INDEX cosignature_by_cosigner ON cosignature (cosigner, time);

-- How far each peer has acknowledged each of this node's feeds ("push"),
-- how far each witness has cosigned each feed ("witness"), and up to which
-- cosignature time this node has shared the cosignatures it holds on its
-- own feeds with each member ("shared"), so every member reaches the same
-- delivery times and the same verdicts.
CREATE TABLE delivery (
    peer      TEXT NOT NULL,
    channel   TEXT NOT NULL,
    author    TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('push', 'witness', 'shared')),
    size      INTEGER NOT NULL,
    PRIMARY KEY (peer, channel, author, role)
);

-- Logs this node witnesses: from a charter that names it as a witness, or
-- added by its operator. It cosigns no other origin.
CREATE TABLE witness_log (
    origin   TEXT PRIMARY KEY,
    party    TEXT NOT NULL,
    source   TEXT NOT NULL
);

-- This node acting as a witness: the latest checkpoint it cosigned per origin.
CREATE TABLE witnessed (
    origin  TEXT PRIMARY KEY,
    size    INTEGER NOT NULL,
    root    BLOB NOT NULL,
    note    TEXT NOT NULL
);

-- Proofs that a feed forked, unproven conflicts worth an alarm, and
-- signed entries dated in the future (kind says which).
CREATE TABLE evidence (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('equivocation', 'future_dated')),
    origin       TEXT NOT NULL,
    party        TEXT NOT NULL,
    detected_at  INTEGER NOT NULL,
    detected_by  TEXT NOT NULL,
    summary      TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    proven       INTEGER NOT NULL
);

-- Key rotations: this party's own and its peers', each a statement signed
-- by the old and the new key (parley-key-rotation/v1).
CREATE TABLE key_rotation (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    party        TEXT NOT NULL,
    role         TEXT NOT NULL,
    statement    TEXT NOT NULL UNIQUE,
    recorded_at  INTEGER NOT NULL
);

-- Who did what on this node: every send, acknowledgement, signature,
-- channel act, key rotation, sign-in and user change, with the user, the
-- client address and the entry it produced. Append-only: the triggers
-- refuse any change to a recorded action.
CREATE TABLE action_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    INTEGER NOT NULL,
    user    TEXT NOT NULL,
    role    TEXT NOT NULL,
    client  TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    entry   TEXT,
    outcome TEXT NOT NULL
);
CREATE TRIGGER action_log_no_update BEFORE UPDATE ON action_log
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
CREATE TRIGGER action_log_no_delete BEFORE DELETE ON action_log
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;
