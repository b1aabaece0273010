-- Cosignatures of a feed in the order they were stored (the rowid, which
-- SQLite keeps after the index's columns), for sharing them with members
-- from where the last share stopped rather than from the start.
CREATE INDEX cosignature_by_feed ON cosignature (channel, author);
-- From this version on, the 'shared' rows of `delivery` hold that
-- position (the last cosignature shared), no longer a signing time.
