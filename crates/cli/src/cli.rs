//! The command line: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// parley: a network of nodes, one per party, that carries messages between
/// parties that distrust each other and keeps a record none can forge, alter
/// or deny.
///
/// Exit codes: 0 success, 1 a check failed or an input is invalid,
/// 2 bad usage.
#[derive(Parser, Debug)]
#[command(
    name = "parley",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Create Ed25519 keys in C2SP signed-note form.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign and verify C2SP signed notes (checkpoints, cosignatures, any text).
    #[command(subcommand)]
    Note(NoteCommand),
    /// Compute RFC 9162 Merkle tree roots and check proofs, for any log.
    #[command(subcommand)]
    Tree(TreeCommand),
    /// Verify a proof bundle offline and print what it proves.
    Verify(VerifyArgs),
}

#[derive(Subcommand, Debug)]
pub(crate) enum KeyCommand {
    /// Write NAME.key (private, mode 0600) and NAME.vkey into DIR.
    Generate {
        /// Key name: no spaces or '+'; a schema-less URL is recommended.
        #[arg(long)]
        name: String,
        /// Directory to write the key files into (created if missing).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum NoteCommand {
    /// Read a note text (or an already signed note) on stdin and print it signed.
    Sign {
        /// Private key file (PRIVATE+KEY+… form).
        #[arg(long)]
        key: PathBuf,
        /// Add a timestamped cosignature/v1 (type 0x04) instead of an Ed25519 (0x01) signature.
        #[arg(long)]
        cosign: bool,
        /// Cosignature time, POSIX seconds (default: now).
        #[arg(long, requires = "cosign")]
        time: Option<u64>,
    },
    /// Read a signed note on stdin; print the names of known keys that signed it.
    Verify {
        /// A verifier key (vkey) or a file holding one; repeat for several.
        /// Ed25519 (0x01) and cosignature/v1 (0x04) keys are accepted.
        #[arg(long = "vkey", required = true, value_name = "VKEY")]
        vkeys: Vec<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum TreeCommand {
    /// Read leaves on stdin (hex, one per line; an empty line is an empty leaf) and print the size and root.
    Root {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Check an inclusion proof read on stdin (one hash per line, hex or base64).
    VerifyInclusion {
        /// Tree size.
        #[arg(long)]
        size: u64,
        /// Zero-based leaf index.
        #[arg(long)]
        index: u64,
        /// The leaf's RFC 9162 hash, SHA-256(0x00 || leaf) (hex or base64).
        #[arg(long)]
        leaf_hash: String,
        /// The tree's root hash (hex or base64).
        #[arg(long)]
        root: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Check a consistency proof read on stdin (one hash per line, hex or base64).
    VerifyConsistency {
        #[arg(long)]
        old_size: u64,
        #[arg(long)]
        new_size: u64,
        #[arg(long)]
        old_root: String,
        #[arg(long)]
        new_root: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// Verify a proof bundle (a C2SP tlog-proof carrying the entry) offline.
///
/// With --vkey: the author's key (its party vkey or its feed vkey) and every
/// other key given must have cosigned. With --policy: a C2SP tlog-policy
/// file names the trusted logs, the witnesses and the quorum.
#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The bundle file (`-` for stdin).
    pub(crate) bundle: PathBuf,
    /// A verifier key or a file holding one; repeat for several.
    #[arg(long = "vkey", value_name = "VKEY", required_unless_present = "policy")]
    pub(crate) vkeys: Vec<String>,
    /// A C2SP tlog-policy file.
    #[arg(long, conflicts_with = "vkeys")]
    pub(crate) policy: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug, Clone, Copy)]
pub(crate) struct JsonFlag {
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}
