//! Why `parley serve` could not run, and its exit codes.

use std::net::SocketAddr;

use crate::config::DirError;
use crate::tls;

/// Why `parley serve` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Dir(#[from] DirError),
    #[error("cannot open the database {at}: {source}")]
    Database {
        /// The file, or the server and database.
        at: String,
        source: parley_store::StoreError,
    },
    #[error("cannot write in {}: {source}; the node stores its database there", path.display())]
    NotWritable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ServeError {
    /// 3: directory or configuration; 4: key; 5: address; 1: anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::Dir(d) => d.exit_code(),
            ServeError::Database { .. } | ServeError::NotWritable { .. } => 3,
            ServeError::Listen { .. } => 5,
            ServeError::Tls(_) => 4,
            ServeError::Other(_) => 1,
        }
    }
}
