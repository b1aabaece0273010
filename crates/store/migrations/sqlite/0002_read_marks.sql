-- Entries a console user has opened, for unread counts.
CREATE TABLE read_mark (
    user  TEXT NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (user, hash)
);
