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
    /// Act as this user (with their API token from DIR/tokens/USER.token
    /// and their role) instead of the node's operator (DIR/api.token).
    #[arg(long = "as", global = true, env = "PARLEY_USER", value_name = "USER")]
    pub(crate) as_user: Option<String>,
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
    /// Start a local network of four parties (NATO, Russia, the United States, an OSCE witness)
    /// with their consoles, replay the 2016–2022 story, keep traffic flowing.
    Demo(DemoArgs),
    /// Create a node directory: configuration, party key, API token, database.
    Init(InitArgs),
    /// Run a node: the federation API for peers and the local API.
    Serve(ServeArgs),
    /// Console users: who may sign in, with which role.
    #[command(subcommand)]
    User(UserCommand),
    /// Pin peers' keys and addresses.
    #[command(subcommand)]
    Peer(PeerCommand),
    /// This party's public keys (one per statement), as one file to hand to peers.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// This node as a witness: the logs it cosigns.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Create, accept, suspend and resume channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Append an entry to this party's feed in a channel and send it.
    Send(SendArgs),
    /// List recent entries, newest first, with their delivery state.
    Inbox(InboxArgs),
    /// Show one entry: its text, delivery per recipient, references.
    Show(ShowArgs),
    /// Show links to peers, backlogs, channels and alarms.
    Status(NodeArgs),
    /// Copy the node's database, consistently, while the node runs.
    Backup(BackupArgs),
    /// Who did what on this node: every send, acknowledgement, signature,
    /// channel act, key rotation, sign-in and user change, with the user,
    /// the client's address and the entry it produced (append-only).
    AuditLog(AuditLogArgs),
    /// Recheck everything the node holds from its database alone: every
    /// entry re-hashed, every tile recomputed, every checkpoint and
    /// cosignature verified against the pinned keys. Safe while it runs.
    Audit(AuditArgs),
    /// Print an entry's proof bundle (verify it offline with `parley verify`).
    Proof(ShowArgs),
    /// List, export and verify evidence that a party forked its feed.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// List every kind of entry, with a one-line description.
    Kinds(JsonOnly),
    /// Print the JSON Schema of a kind's body.
    Schema {
        /// The kind (see `parley kinds`).
        kind: String,
    },
    /// The roles a user may have, and what each may send (the table the
    /// console and the API enforce).
    Roles(RolesArgs),
    /// Print a valid example body of a kind, to start from.
    Example {
        /// The kind (see `parley kinds`).
        kind: String,
    },
    /// Print the treaty rule sets this build checks against, with sources.
    Rules(JsonOnly),
    /// The obligations board: who owes whom what by when.
    Obligations(ObligationsArgs),
    /// A channel's merged transcript, in causal order.
    Timeline(TimelineArgs),
    /// What has gone unanswered, and for how long.
    Silence(SilenceArgs),
    /// Notified military activities and annual calendars.
    Exercises(NodeArgs),
    /// Inspections and evaluation visits (Vienna Document Chapter IX): the
    /// quota each State has left, every request with its standing, reply
    /// and report, and the Chapter I and II returns.
    Verification(YearArgs),
    /// Meetings: invitations, replies, agendas, records, disclosure.
    Meetings(AtArgs),
    /// Negotiated texts: versions, signatures.
    Negotiations(NodeArgs),
    /// Versions signed by every named signatory.
    Commitments(NodeArgs),
    /// Replay a scenario file through running nodes.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Measure parley on this machine against its bounds and a broker:
    /// hashing and signatures, the log, nodes on loopback, catch-up,
    /// footprint, NATS JetStream. Prints a table (or --json).
    Bench(BenchArgs),
}

#[derive(Subcommand, Debug)]
pub(crate) enum ScenarioCommand {
    /// Perform every step of a scenario, each by its party's node.
    Run {
        /// The scenario file (TOML), e.g. scenarios/nato-russia-2016-2022.toml.
        file: PathBuf,
        /// A party's node directory, as PARTY=DIR; repeat for each party.
        #[arg(long = "node", value_name = "PARTY=DIR", required = true)]
        nodes: Vec<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum BenchCommand {
    /// Only the saturation figure: two nodes on 127.0.0.1, a stream of
    /// messages, messages per second and send → stored-receipt latency.
    Federation(BenchFederationArgs),
    /// How delivery and receipts grow with the members of a channel:
    /// that many nodes and a witness on 127.0.0.1, one sender.
    Members(BenchMembersArgs),
    /// A node with a long history (a million entries by default): time to
    /// read it at start, p50/p99 of every console page and of `parley
    /// obligations`, and an answer's time to the creditor's board.
    History(BenchHistoryArgs),
    /// Only the Matrix peer: two Synapse homeservers from PyPI federating
    /// over TLS on 127.0.0.1, send on A → event in B's client `/sync`, at
    /// 1, 10 and 100 msg/s offered and at saturation.
    Matrix(BenchMatrixArgs),
}

#[derive(Args, Debug)]
pub(crate) struct BenchMatrixArgs {
    /// Seconds each offered load runs.
    #[arg(long, default_value_t = 4.0, value_name = "SECS")]
    pub(crate) load_secs: f64,
    /// Messages sent at saturation.
    #[arg(long, default_value_t = 400, value_name = "N")]
    pub(crate) saturation_messages: u64,
    /// Senders at saturation.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: u64,
    /// Keep the homeservers' directories (configuration, logs, databases)
    /// and print where they are.
    #[arg(long)]
    pub(crate) keep: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct BenchHistoryArgs {
    /// Entries in the history, written into both parties' stores before
    /// their nodes start.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) entries: u64,
    /// Requests timed per page.
    #[arg(long, default_value_t = 30)]
    pub(crate) samples: usize,
    /// Acknowledgements timed to the board.
    #[arg(long, default_value_t = 20)]
    pub(crate) rounds: usize,
    /// Each node keeps its record in a throwaway PostgreSQL database on the
    /// server PGHOST… names (run inside pg_virtualenv), not in SQLite.
    #[arg(long)]
    pub(crate) postgres: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

/// `parley bench`: sizes are flags; the defaults finish in a few minutes on
/// a 2-core machine, `--quick` in under one.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    pub(crate) command: Option<BenchCommand>,
    /// Smaller sizes, the same measurements (under a minute).
    #[arg(long)]
    pub(crate) quick: bool,
    /// Seconds spent on each hashing and signature bound.
    #[arg(long, value_name = "SECS")]
    pub(crate) hardware_secs: Option<f64>,
    /// Entries appended one per durable commit [default: 2000; quick 300].
    #[arg(long, value_name = "N")]
    pub(crate) append_entries: Option<u64>,
    /// Entries appended 1,000 per durable commit [default: 100000; quick 10000].
    #[arg(long, value_name = "N")]
    pub(crate) batched_entries: Option<u64>,
    /// Entries in the audited feed [default: 30000; quick 3000].
    #[arg(long, value_name = "N")]
    pub(crate) audit_entries: Option<u64>,
    /// Offered loads in messages per second [default: 10,100,1000].
    #[arg(long, value_delimiter = ',', value_name = "RATES")]
    pub(crate) loads: Option<Vec<f64>>,
    /// Seconds each offered load runs [default: 4; quick 1.5].
    #[arg(long, value_name = "SECS")]
    pub(crate) load_secs: Option<f64>,
    /// Messages sent at saturation [default: 2000; quick 400].
    #[arg(long, value_name = "N")]
    pub(crate) saturation_messages: Option<u64>,
    /// Senders at saturation.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: u64,
    /// Entries a node that was offline catches up on [default: 100000; quick 10000].
    #[arg(long, value_name = "N")]
    pub(crate) catchup_entries: Option<u64>,
    /// Entries in the large node whose footprint is measured [default: 1000000; quick 100000].
    #[arg(long, value_name = "N")]
    pub(crate) footprint_entries: Option<u64>,
    /// Skip the comparisons with NATS JetStream and Matrix.
    #[arg(long)]
    pub(crate) no_peer: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct BenchMembersArgs {
    /// Channel sizes to run, each with its own nodes.
    #[arg(long, value_delimiter = ',', default_value = "2,8,32")]
    pub(crate) members: Vec<usize>,
    /// Offered load, in messages per second…
    #[arg(long, default_value_t = 20.0)]
    pub(crate) rate: f64,
    /// …for this many seconds.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) secs: f64,
    /// Messages sent at saturation.
    #[arg(long, default_value_t = 500)]
    pub(crate) messages: u64,
    /// Senders at saturation.
    #[arg(long, default_value_t = 8)]
    pub(crate) concurrency: u64,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct BenchFederationArgs {
    /// Messages to send.
    #[arg(long, default_value_t = 2000)]
    pub(crate) messages: u64,
    /// Senders sending at the same time.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: u64,
    /// Keep the nodes' directories (with their logs) and print where.
    #[arg(long)]
    pub(crate) keep: bool,
    /// Each node keeps its record in a throwaway PostgreSQL database on the
    /// server PGHOST… names (run inside pg_virtualenv), not in SQLite.
    #[arg(long)]
    pub(crate) postgres: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

/// The node directory.
#[derive(Args, Debug, Clone)]
pub(crate) struct DirArg {
    /// The node directory (created by `parley init`).
    #[arg(long, env = "PARLEY_DIR")]
    pub(crate) dir: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct AuditLogArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Only actions after this number.
    #[arg(long, default_value_t = 0)]
    pub(crate) after: i64,
    /// At most this many actions.
    #[arg(long, default_value_t = 1000)]
    pub(crate) limit: u64,
    /// Only this user's actions.
    #[arg(long)]
    pub(crate) user: Option<String>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Where to write the copy (must not exist). The key is not in it.
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct NodeArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

/// Four nodes on 127.0.0.1 (ports PORT to PORT+3; consoles at PORT+1000
/// to PORT+1003) on embedded SQLite, each with its web console. Ctrl-C stops them cleanly; running
/// the same command again resumes with the same record.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Where the nodes live.
    #[arg(long, default_value = "parley-demo")]
    pub(crate) dir: PathBuf,
    /// First of four consecutive ports.
    #[arg(long, default_value_t = 7100)]
    pub(crate) port: u16,
    /// Replay the story, then send nothing more (for tests and screenshots).
    #[arg(long)]
    pub(crate) no_traffic: bool,
}

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// This party's name (a-z, 0-9, '.', '_', '-'), e.g. nato.
    #[arg(long)]
    pub(crate) party: String,
    /// Directory to create.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// Address peers reach this node on (mutual TLS), e.g. 0.0.0.0:7101.
    #[arg(long)]
    pub(crate) listen: std::net::SocketAddr,
    /// Address of the web console and local API (default 127.0.0.1 and
    /// the peers' port + 1000). Plain HTTP is served only on loopback;
    /// elsewhere configure [console] tls_certificate and tls_key.
    #[arg(long)]
    pub(crate) console: Option<std::net::SocketAddr>,
    /// URL peers use to reach this node (default https://LISTEN), e.g. https://parley.example.org:7101.
    #[arg(long)]
    pub(crate) public_url: Option<String>,
    /// Keep the record in PostgreSQL instead of the embedded SQLite file:
    /// a connection string, e.g. postgres://parley@db.example.org/nato or
    /// "host=/run/postgresql dbname=nato". Written to [storage] url.
    #[arg(long, value_name = "URL")]
    pub(crate) database: Option<String>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

/// Run a node until SIGINT or SIGTERM.
///
/// On PostgreSQL, a second process of the same party on the same database
/// stands by (answering 503 not_active) and takes over when the active one
/// stops.
///
/// Exit codes: 0 clean shutdown, 3 the directory or configuration is
/// wrong, 4 the key is wrong, 5 the address cannot be listened on,
/// 1 anything else. An active node that loses its lease on the database
/// stops acting and stands by. Logs go to stderr; set RUST_LOG (e.g. debug) for more.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub(crate) log_json: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum PeerCommand {
    /// Pin a peer's keys (its identity file, exchanged out of band) and URL.
    Add {
        #[command(flatten)]
        dir: DirArg,
        /// The peer's identity file (its `party.identity`): its log,
        /// receipt, witness and node keys.
        #[arg(long)]
        identity: PathBuf,
        /// The peer node's URL, e.g. https://parley.peer.example. Give it
        /// again for each node of a party that runs a standby: they are
        /// tried in turn, and the active one answers.
        #[arg(long, required = true)]
        url: Vec<String>,
        /// The party you expect the identity to name (a check, optional).
        #[arg(long)]
        party: Option<String>,
        /// Replace the identity pinned for that party (after its key was
        /// lost or stolen, with a new identity checked out of band).
        #[arg(long)]
        replace: bool,
    },
    /// List pinned peers.
    List(NodeArgs),
}

#[derive(Subcommand, Debug)]
pub(crate) enum WitnessCommand {
    /// Witness a log of a pinned party. (Channels that name this node as a
    /// witness are added by themselves when a member shows their charter.)
    Add {
        #[command(flatten)]
        dir: DirArg,
        /// The log's origin, e.g. parley/nato.mil/nato.
        #[arg(long)]
        origin: String,
        /// The pinned party whose log key signs it.
        #[arg(long)]
        party: String,
    },
    /// The logs this node witnesses, with why and the latest size cosigned.
    List(NodeArgs),
}

#[derive(Subcommand, Debug)]
pub(crate) enum IdentityCommand {
    /// Print this node's identity file (also in DIR/party.identity): hand
    /// it to peers out of band; they pin it with `parley peer add`.
    Export(NodeArgs),
    /// Replace one of this party's keys (log, receipt, witness or node) with
    /// a fresh one. The running node signs a rotation statement with the old
    /// and the new key and sends it to every peer, which pins the new key
    /// beside the old; records signed before stay verifiable.
    Rotate {
        #[command(flatten)]
        dir: DirArg,
        /// log, receipt, witness or node.
        #[arg(long, value_parser = ["log", "receipt", "witness", "node"])]
        role: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Print the log vkey of one feed (its name is the feed's origin, as
    /// C2SP requires), for a witness operator or an outside verifier.
    LogKey {
        /// An identity file.
        #[arg(long)]
        identity: PathBuf,
        /// The feed's origin, e.g. parley/nato.mil/nato.
        #[arg(long)]
        origin: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Add (or replace) a console user. The password is read from stdin
    /// (first line) unless --password is given; only its argon2 hash is kept.
    Add {
        #[command(flatten)]
        dir: DirArg,
        /// The user name to sign in with.
        #[arg(long)]
        name: String,
        /// duty_officer, diplomat, expert, signatory, auditor or administrator.
        #[arg(long, value_parser = ["duty_officer", "diplomat", "expert", "signatory", "auditor", "administrator"])]
        role: String,
        /// The password (visible in the process list; prefer stdin).
        #[arg(long)]
        password: Option<String>,
        /// Also issue an API token for this user (see `user token`).
        #[arg(long)]
        token: bool,
        /// The console's language for this user: en or ru (the console's
        /// language switch and a `?lang=` link still choose another).
        #[arg(long, value_parser = ["en", "ru"])]
        language: Option<String>,
    },
    /// Issue (or replace) a user's API token: written to
    /// DIR/tokens/NAME.token (mode 0600); only its SHA-256 is kept in
    /// parley.toml. `parley --as NAME …` then acts as that user, with
    /// that user's role.
    Token {
        #[command(flatten)]
        dir: DirArg,
        /// The user name.
        #[arg(long)]
        name: String,
    },
    /// Remove a console user; their open sessions end at their next click.
    Remove {
        #[command(flatten)]
        dir: DirArg,
        /// The user name.
        #[arg(long)]
        name: String,
    },
    /// List console users and their roles.
    List(NodeArgs),
}

#[derive(Subcommand, Debug)]
pub(crate) enum ChannelCommand {
    /// Write a channel charter and send it to the members.
    Create(Box<ChannelCreateArgs>),
    /// Accept a channel's charter.
    Accept(ChannelActArgs),
    /// Suspend a channel (only a resumption may follow).
    Suspend(ChannelActArgs),
    /// Resume a suspended channel.
    Resume(ChannelActArgs),
    /// List channels and their state.
    List(NodeArgs),
    /// Print the channel's C2SP tlog-policy: each member feed's log key
    /// (named after its origin), each member's receipt key, the witnesses,
    /// and the quorum (every other member's receipt and every witness).
    /// `parley verify --policy` and C2SP tools accept it.
    Policy {
        #[command(flatten)]
        dir: DirArg,
        /// The channel id.
        #[arg(long)]
        id: String,
    },
}

#[derive(Args, Debug)]
pub(crate) struct ChannelCreateArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Channel id (a-z, 0-9, '.', '_', '-'), e.g. nrc-military.
    #[arg(long)]
    pub(crate) id: String,
    /// Member parties, comma-separated, this party included.
    #[arg(long, value_delimiter = ',', required = true)]
    pub(crate) members: Vec<String>,
    /// A neutral witness (receives checkpoints only); repeat for several.
    #[arg(long = "witness")]
    pub(crate) witnesses: Vec<String>,
    /// A C2SP witness outside parley, as "URL VKEY": its submission
    /// prefix and its cosignature/v1 vkey; repeat for several.
    #[arg(long = "external-witness", value_name = "URL VKEY")]
    pub(crate) external_witnesses: Vec<String>,
    /// The level of the channel: who talks on it (military, political or expert).
    #[arg(long, value_parser = ["military", "political", "expert"])]
    pub(crate) level: String,
    /// Languages, comma-separated ISO 639-1 codes.
    #[arg(long, value_delimiter = ',', default_value = "en")]
    pub(crate) languages: Vec<String>,
    /// A human title for the channel.
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// Minutes to acknowledge a flash message.
    #[arg(long, default_value_t = 5)]
    pub(crate) flash_ack_minutes: u32,
    /// Minutes to acknowledge an immediate message.
    #[arg(long, default_value_t = 30)]
    pub(crate) immediate_ack_minutes: u32,
    /// Each member owes an annual calendar of its notifiable activities by
    /// 15 November for the next year (VD11 Chapter VII).
    #[arg(long)]
    pub(crate) annual_calendar: bool,
    /// Each participating State owes the annual exchange of military
    /// information by 15 December for the next year (VD11 Chapter I); the
    /// units it reports set its quota of evaluation visits.
    #[arg(long)]
    pub(crate) annual_exchange: bool,
    /// The incidents-at-sea agreement the members follow (`id@version`,
    /// e.g. `incsea-1972@1`; see `parley rules`): reports cite its
    /// articles, dangerous activities are notified ahead, and the members
    /// owe each other its annual review.
    #[arg(long, value_name = "AGREEMENT")]
    pub(crate) incidents_at_sea: Option<String>,
    /// The language whose text is authentic: every text is given in it,
    /// the others are translations.
    #[arg(long, value_name = "LANG")]
    pub(crate) authentic_language: Option<String>,
    /// Every text is to come in every language of the channel; a missing
    /// translation is marked where the text is shown.
    #[arg(long)]
    pub(crate) translations_required: bool,
    /// The treaty rule set notifications are checked against (`id@version`,
    /// see `parley rules`); default the Vienna Document 2011 set.
    #[arg(long)]
    pub(crate) ruleset: Option<String>,
    /// A member that is a participating State of the treaty (repeat for
    /// each). Only they notify activities and owe calendars; an alliance is
    /// not one. Default: every member.
    #[arg(long = "participating-state", value_name = "PARTY")]
    pub(crate) participating_states: Vec<String>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct ChannelActArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The channel id.
    #[arg(long)]
    pub(crate) id: String,
    /// The reason, for the record (suspend and resume).
    #[arg(long)]
    pub(crate) reason: Option<String>,
    /// Seconds to wait for a charter that has not arrived yet (accept).
    #[arg(long, default_value_t = 10)]
    pub(crate) wait: u64,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The channel id (`parley channel list` shows them).
    #[arg(long)]
    pub(crate) channel: String,
    /// Entry kind (`parley kinds` lists them); hotline_message with --text.
    #[arg(long)]
    pub(crate) kind: Option<String>,
    /// The body as a JSON file (`-` for stdin).
    #[arg(long, conflicts_with = "text")]
    pub(crate) body: Option<PathBuf>,
    /// A hotline message's text.
    #[arg(long, required_unless_present = "body")]
    pub(crate) text: Option<String>,
    /// Language of --text.
    #[arg(long, default_value = "en")]
    pub(crate) lang: String,
    /// Precedence of a --text message.
    #[arg(long, default_value = "routine", value_parser = ["routine", "priority", "immediate", "flash"])]
    pub(crate) priority: String,
    /// Addressee among the members; repeat for several (default: all).
    #[arg(long = "to")]
    pub(crate) to: Vec<String>,
    /// An entry this one refers to (channel/author/seq or hash); repeat for several.
    #[arg(long = "refs", alias = "ref")]
    pub(crate) refs: Vec<String>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct InboxArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Only this channel.
    #[arg(long)]
    pub(crate) channel: Option<String>,
    /// Most entries to list.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: u64,
    /// Include link tests.
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The entry: channel/author/seq, or its hash.
    pub(crate) entry: String,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Subcommand, Debug)]
pub(crate) enum EvidenceCommand {
    /// List evidence this node recorded.
    List(NodeArgs),
    /// Print one evidence file (JSON) to stdout.
    Export {
        #[command(flatten)]
        dir: DirArg,
        /// Evidence number, from `parley evidence list`.
        id: i64,
    },
    /// Verify an evidence file offline against the accused party's vkey.
    Verify {
        /// The evidence file (`-` for stdin).
        file: PathBuf,
        /// The accused party's vkey, or a file holding it.
        #[arg(long)]
        vkey: String,
        #[command(flatten)]
        json: JsonFlag,
    },
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
    /// A key the bundle must carry a signature of, or a file holding one;
    /// repeat for several. The author's log key (0x01, named after it)
    /// must have signed; every cosigner key given (0x04: a member's
    /// receipt key `PARTY/receipt`, a witness key) must have cosigned.
    #[arg(long = "vkey", value_name = "VKEY", required_unless_present_any = ["policy", "identities"])]
    pub(crate) vkeys: Vec<String>,
    /// A party's identity file; repeat for several. Its log key may sign
    /// the bundle, its receipt and witness keys are checked and reported
    /// where present, not required (use --vkey to require one).
    #[arg(long = "identity", value_name = "FILE", conflicts_with = "policy")]
    pub(crate) identities: Vec<PathBuf>,
    /// A C2SP tlog-policy file (e.g. from `parley channel policy`).
    #[arg(long, conflicts_with = "vkeys")]
    pub(crate) policy: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct RolesArgs {
    /// Print the table as Markdown (as in the README and the user guide).
    #[arg(long, conflicts_with = "json")]
    pub(crate) markdown: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct JsonOnly {
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct ObligationsArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Only obligations owed by or to this party.
    #[arg(long)]
    pub(crate) party: Option<String>,
    /// Only this channel.
    #[arg(long)]
    pub(crate) channel: Option<String>,
    /// Only overdue obligations.
    #[arg(long)]
    pub(crate) overdue: bool,
    /// Evaluate as of this time (RFC 3339, e.g. 2026-11-27T17:00:00Z): what will be overdue by then?
    #[arg(long)]
    pub(crate) at: Option<String>,
    /// How many met obligations to list, most recently met first (every
    /// obligation not met is always listed).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub(crate) met: usize,
    /// List every obligation ever made, met or not.
    #[arg(long)]
    pub(crate) all: bool,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct TimelineArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The channel id (`parley channel list` shows them).
    #[arg(long)]
    pub(crate) channel: String,
    /// The first entry to show, counting from 0 at the earliest (default:
    /// the last --limit entries).
    #[arg(long, value_name = "N")]
    pub(crate) from: Option<usize>,
    /// How many entries to show.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub(crate) limit: usize,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct AtArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// Evaluate as of this time (RFC 3339).
    #[arg(long)]
    pub(crate) at: Option<String>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

#[derive(Args, Debug)]
pub(crate) struct YearArgs {
    #[command(flatten)]
    pub(crate) dir: DirArg,
    /// The calendar year whose quotas to show (default: this year).
    #[arg(long)]
    pub(crate) year: Option<i64>,
    #[command(flatten)]
    pub(crate) json: JsonFlag,
}

/// `parley silence`: the report, or with --proof a proof of one silence.
#[derive(Args, Debug)]
pub(crate) struct SilenceArgs {
    #[command(flatten)]
    pub(crate) at: AtArgs,
    /// Write a proof that the --debtor has not answered this entry (one of
    /// this party's, e.g. nato.nrc/nato/3): delivered at T by its receipt, and
    /// no answer in its feed as of a checkpoint cosigned after the
    /// deadline, showing only its entries' headers. Check it with
    /// `parley verify FILE --identity …`.
    #[arg(long, value_name = "ENTRY", requires = "debtor")]
    pub(crate) proof: Option<String>,
    /// The party whose silence to prove.
    #[arg(long, requires = "proof")]
    pub(crate) debtor: Option<String>,
    /// Write the proof here instead of stdout.
    #[arg(long, requires = "proof")]
    pub(crate) out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug, Clone, Copy)]
pub(crate) struct JsonFlag {
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}
