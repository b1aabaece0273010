//! C2SP tlog-tiles: the tree's hashes kept as tiles of height 8.
//!
//! A tile at tile level `L` holds up to 256 consecutive node hashes of tree
//! level `8·L`; the seven levels in between are recomputed from it. The
//! store keeps, for each tile, the longest prefix written so far: a partial
//! tile of width `W` is the first `W` hashes of that prefix, so every
//! partial tile of every checkpointed size stays servable.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::hash::{HASH_LEN, Hash, node_hash};
use crate::merkle::{Frontier, NodeSource};

/// Tree levels per tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Bytes in a full tile.
pub const FULL_TILE_BYTES: usize = 256 * HASH_LEN;
/// Largest entry an entry bundle can frame (`uint16` length prefix).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Storage for tiles. Reads return the stored prefix (1..=256 hashes, as
/// bytes); writes replace it with a longer prefix of the same tile.
pub trait TileStore {
    type Error;
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, Self::Error>;
    fn write_tile(&mut self, level: u8, index: u64, hashes: &[u8]) -> Result<(), Self::Error>;
}

/// A tile store in memory, for tests and tools.
#[derive(Clone, Debug, Default)]
pub struct MemoryTileStore {
    tiles: BTreeMap<(u8, u64), Vec<u8>>,
    /// Number of `write_tile` calls, so tests can check write amplification.
    pub writes: u64,
}

impl MemoryTileStore {
    pub fn new() -> MemoryTileStore {
        MemoryTileStore::default()
    }

    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }
}

impl TileStore for MemoryTileStore {
    type Error = std::convert::Infallible;
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.tiles.get(&(level, index)).cloned())
    }
    fn write_tile(&mut self, level: u8, index: u64, hashes: &[u8]) -> Result<(), Self::Error> {
        self.writes += 1;
        self.tiles.insert((level, index), hashes.to_vec());
        Ok(())
    }
}

/// Why a tile-backed read failed.
#[derive(Debug, thiserror::Error)]
pub enum TileError<E> {
    #[error("tile {level}/{index} is missing or holds {have} of the {need} hashes needed")]
    Missing {
        level: u8,
        index: u64,
        have: usize,
        need: usize,
    },
    #[error("tile {level}/{index} is {len} bytes, not a whole number of hashes")]
    Corrupt { level: u8, index: u64, len: usize },
    #[error(transparent)]
    Store(E),
}

/// Reads perfect-subtree hashes from stored tiles, caching the tiles it has
/// read (a proof touches at most a few per tile level).
pub struct TileNodes<'a, S: TileStore> {
    store: &'a S,
    cache: HashMap<(u8, u64), Vec<u8>>,
}

impl<'a, S: TileStore> TileNodes<'a, S> {
    pub fn new(store: &'a S) -> TileNodes<'a, S> {
        TileNodes {
            store,
            cache: HashMap::new(),
        }
    }

    fn tile(&mut self, level: u8, index: u64) -> Result<&[u8], TileError<S::Error>> {
        if !self.cache.contains_key(&(level, index)) {
            let bytes = self
                .store
                .read_tile(level, index)
                .map_err(TileError::Store)?
                .unwrap_or_default();
            if bytes.len() % HASH_LEN != 0 || bytes.len() > FULL_TILE_BYTES {
                return Err(TileError::Corrupt {
                    level,
                    index,
                    len: bytes.len(),
                });
            }
            self.cache.insert((level, index), bytes);
        }
        Ok(&self.cache[&(level, index)])
    }
}

impl<S: TileStore> NodeSource for TileNodes<'_, S> {
    type Error = TileError<S::Error>;

    fn node(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        let tile_level = level / TILE_HEIGHT;
        let sub = level % TILE_HEIGHT;
        // The node covers `count` consecutive hashes of the tile's row.
        let first = index << sub;
        let count = 1usize << sub;
        let tile_index = first / TILE_WIDTH;
        let offset = (first % TILE_WIDTH) as usize;
        let tile = self.tile(tile_level, tile_index)?;
        let have = tile.len() / HASH_LEN;
        if offset + count > have {
            return Err(TileError::Missing {
                level: tile_level,
                index: tile_index,
                have,
                need: offset + count,
            });
        }
        let mut row: Vec<Hash> = tile[offset * HASH_LEN..(offset + count) * HASH_LEN]
            .chunks_exact(HASH_LEN)
            .map(|c| Hash::from_slice(c).expect("chunk is 32 bytes"))
            .collect();
        while row.len() > 1 {
            row = row
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
        }
        Ok(row[0])
    }
}

/// A log's tree kept as tiles: the frontier for roots, plus the right-edge
/// (partial) tile of every tile level, so an append touches only those.
#[derive(Clone, Debug, Default)]
pub struct TiledTree {
    frontier: Frontier,
    /// `edge[L]` holds the hashes of the partial tile at tile level `L`.
    edge: Vec<Vec<u8>>,
}

impl TiledTree {
    pub fn new() -> TiledTree {
        TiledTree::default()
    }

    /// Restores the right edge of a tree of `size` leaves from its tiles.
    pub fn load<S: TileStore>(store: &S, size: u64) -> Result<TiledTree, TileError<S::Error>> {
        let mut nodes = TileNodes::new(store);
        let frontier = Frontier::load(&mut nodes, size)?;
        let mut edge = Vec::new();
        for level in 0..tile_levels(size) {
            let width = partial_width(size, level);
            let mut bytes = Vec::new();
            if width > 0 {
                let index = size >> (u32::from(TILE_HEIGHT) * (u32::from(level) + 1));
                let tile = nodes.tile(level, index)?;
                let need = usize::from(width) * HASH_LEN;
                if tile.len() < need {
                    return Err(TileError::Missing {
                        level,
                        index,
                        have: tile.len() / HASH_LEN,
                        need: usize::from(width),
                    });
                }
                bytes.extend_from_slice(&tile[..need]);
            }
            edge.push(bytes);
        }
        Ok(TiledTree { frontier, edge })
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The roots of the tree's maximal perfect subtrees.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// Appends leaf hashes and writes each tile they change once: every tile
    /// that fills up, and the partial right-edge tile of each level touched.
    pub fn append<S: TileStore>(&mut self, leaves: &[Hash], store: &mut S) -> Result<(), S::Error> {
        let mut full: Vec<(u8, u64, Vec<u8>)> = Vec::new();
        let mut dirty: Vec<bool> = vec![false; self.edge.len()];
        let edge = &mut self.edge;
        for leaf in leaves {
            self.frontier.append(*leaf, &mut |level, index, h| {
                if level % TILE_HEIGHT != 0 {
                    return;
                }
                let tl = usize::from(level / TILE_HEIGHT);
                if edge.len() <= tl {
                    edge.resize(tl + 1, Vec::new());
                    dirty.resize(tl + 1, false);
                }
                edge[tl].extend_from_slice(&h.0);
                dirty[tl] = true;
                if edge[tl].len() == FULL_TILE_BYTES {
                    full.push((tl as u8, index / TILE_WIDTH, std::mem::take(&mut edge[tl])));
                }
            });
        }
        for (level, index, bytes) in &full {
            store.write_tile(*level, *index, bytes)?;
        }
        let size = self.size();
        for (tl, row) in self.edge.iter().enumerate() {
            if dirty[tl] && !row.is_empty() {
                let index = size >> (u32::from(TILE_HEIGHT) * (tl as u32 + 1));
                store.write_tile(tl as u8, index, row)?;
            }
        }
        Ok(())
    }
}

/// Number of tile levels a tree of `size` leaves has tiles at.
pub fn tile_levels(size: u64) -> u8 {
    let mut levels = 0u8;
    let mut s = size;
    while s > 0 {
        levels += 1;
        s >>= TILE_HEIGHT;
    }
    levels
}

/// Width of the partial tile at `level` for a tree of `size` leaves
/// (`floor(size / 256^level) mod 256`); 0 means there is none.
pub fn partial_width(size: u64, level: u8) -> u8 {
    let shift = u32::from(TILE_HEIGHT) * u32::from(level);
    if shift >= 64 {
        return 0;
    }
    ((size >> shift) % TILE_WIDTH) as u8
}

/// Number of full tiles at `level` for a tree of `size` leaves.
pub fn full_tiles(size: u64, level: u8) -> u64 {
    let shift = u32::from(TILE_HEIGHT) * (u32::from(level) + 1);
    if shift >= 64 { 0 } else { size >> shift }
}

/// What a tile path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    /// `tile/<L>/…`: hashes at tile level L (0..=63).
    Hashes(u8),
    /// `tile/entries/…`: an entry bundle.
    Entries,
}

/// A C2SP tlog-tiles path: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilePath {
    pub kind: TileKind,
    pub index: u64,
    /// `Some(W)` for a partial tile of width `W` (1..=255).
    pub width: Option<u8>,
}

/// Why a string is not a tile path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a tile path: {0}")]
pub struct TilePathError(pub String);

impl TilePath {
    /// Parses a path relative to the log prefix, e.g. `tile/0/x001/x234/067.p/8`.
    pub fn parse(path: &str) -> Result<TilePath, TilePathError> {
        let err = |why: &str| TilePathError(format!("{path:?}: {why}"));
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| err("must start with tile/"))?;
        let (kind_str, rest) = rest.split_once('/').ok_or_else(|| err("missing index"))?;
        let kind = if kind_str == "entries" {
            TileKind::Entries
        } else {
            let level = parse_decimal(kind_str).ok_or_else(|| err("bad level"))?;
            if level > 63 {
                return Err(err("level must be 0..63"));
            }
            TileKind::Hashes(level as u8)
        };
        let (index_str, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = parse_decimal(w).ok_or_else(|| err("bad partial width"))?;
                if !(1..=255).contains(&w) {
                    return Err(err("partial width must be 1..255"));
                }
                (i, Some(w as u8))
            }
            None => (rest, None),
        };
        let index = parse_index(index_str).ok_or_else(|| err("bad index encoding"))?;
        let parsed = TilePath { kind, index, width };
        // One index has one spelling: reject anything that does not round-trip.
        if parsed.to_string() != path {
            return Err(err("not in canonical form"));
        }
        Ok(parsed)
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hashes(l) => write!(f, "tile/{l}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        f.write_str(&format_index(self.index))?;
        if let Some(w) = self.width {
            write!(f, ".p/{w}")?;
        }
        Ok(())
    }
}

/// `1234067` → `x001/x234/067`.
pub fn format_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn parse_index(s: &str) -> Option<u64> {
    let mut n: u64 = 0;
    let parts: Vec<&str> = s.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let digits = if i + 1 < parts.len() {
            part.strip_prefix('x')?
        } else {
            part
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    Some(n)
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Frames entries as an entry bundle: `uint16 BE length || entry`, repeated.
pub fn encode_entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).expect("entries are at most 65535 bytes");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Splits an entry bundle into its entries.
pub fn decode_entry_bundle(mut bytes: &[u8]) -> Result<Vec<&[u8]>, TilePathError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 2 {
            return Err(TilePathError(
                "entry bundle ends inside a length prefix".into(),
            ));
        }
        let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        if bytes.len() < 2 + len {
            return Err(TilePathError("entry bundle ends inside an entry".into()));
        }
        out.push(&bytes[2..2 + len]);
        bytes = &bytes[2 + len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::merkle::{MemoryTree, consistency_proof, inclusion_proof, root};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn tiles_reproduce_every_root_and_proof() {
        let all = leaves(1000);
        let mut store = MemoryTileStore::new();
        let mut tree = TiledTree::new();
        let mut mem = MemoryTree::from_leaf_hashes(all.clone());
        // Uneven batches, so partial tiles are rewritten and completed.
        let mut done = 0usize;
        for batch in [1usize, 2, 253, 1, 255, 300, 188] {
            tree.append(&all[done..done + batch], &mut store).unwrap();
            done += batch;
            let size = done as u64;
            assert_eq!(tree.root(), mem.root_at(size));
            let mut nodes = TileNodes::new(&store);
            assert_eq!(root(&mut nodes, size).unwrap(), mem.root_at(size));
            for &i in &[0u64, size / 2, size - 1] {
                assert_eq!(
                    inclusion_proof(&mut nodes, i, size).unwrap(),
                    mem.inclusion_proof(i, size).unwrap()
                );
            }
            for old in [1u64, size / 3 + 1, size] {
                assert_eq!(
                    consistency_proof(&mut nodes, old, size).unwrap(),
                    mem.consistency_proof(old, size).unwrap()
                );
            }
            let reloaded = TiledTree::load(&store, size).unwrap();
            assert_eq!(reloaded.root(), tree.root());
            assert_eq!(reloaded.edge, tree.edge);
        }
        // Older sizes stay provable from the newer tiles.
        let mut nodes = TileNodes::new(&store);
        for size in [1u64, 255, 256, 257, 511, 512, 513, 999] {
            assert_eq!(root(&mut nodes, size).unwrap(), mem.root_at(size));
        }
    }

    #[test]
    fn append_writes_only_the_right_edge() {
        let mut store = MemoryTileStore::new();
        let mut tree = TiledTree::new();
        tree.append(&leaves(256 * 3 + 5), &mut store).unwrap();
        // 3 full level-0 tiles, 1 partial level-0, 1 partial level-1.
        assert_eq!(store.writes, 5);
        assert_eq!(store.tile_count(), 5);
    }

    #[test]
    fn tile_path_encoding() {
        let p = TilePath {
            kind: TileKind::Hashes(0),
            index: 1_234_067,
            width: None,
        };
        assert_eq!(p.to_string(), "tile/0/x001/x234/067");
        assert_eq!(TilePath::parse("tile/0/x001/x234/067").unwrap(), p);
        assert_eq!(
            TilePath::parse("tile/entries/000.p/15").unwrap(),
            TilePath {
                kind: TileKind::Entries,
                index: 0,
                width: Some(15)
            }
        );
        for bad in [
            "tile/0/1",
            "tile/0/x000/001",
            "tile/64/000",
            "tile/01/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/001/002",
            "tiles/0/000",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn widths_for_spec_example() {
        // tlog-tiles: size 70,000 → 273 full L0 + partial 112, 1 full L1 + partial 17, L2 partial 1.
        assert_eq!(full_tiles(70_000, 0), 273);
        assert_eq!(partial_width(70_000, 0), 112);
        assert_eq!(full_tiles(70_000, 1), 1);
        assert_eq!(partial_width(70_000, 1), 17);
        assert_eq!(full_tiles(70_000, 2), 0);
        assert_eq!(partial_width(70_000, 2), 1);
        assert_eq!(tile_levels(70_000), 3);
    }

    #[test]
    fn entry_bundle_round_trip() {
        let b = encode_entry_bundle([b"one".as_slice(), b"two", b""]);
        assert_eq!(
            decode_entry_bundle(&b).unwrap(),
            vec![&b"one"[..], b"two", b""]
        );
        assert!(decode_entry_bundle(&b[..b.len() - 1]).is_err());
        assert!(decode_entry_bundle(&b[..4]).is_err());
    }
}
