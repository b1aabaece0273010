//! `parley`: the command-line tool. Offline commands (keys, notes, trees,
//! bundle verification) need nothing but their inputs; node commands talk
//! to a node's local API.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod output;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // Every file parley writes (database, WAL, backups, exports) is for
    // its owner only unless made public on purpose.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    parley_node::install_crypto();
    match cmd::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A closed pipe (`parley … | head`) is not an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            match err.downcast_ref::<output::Reported>() {
                Some(_) => {}
                None => eprintln!("parley: {}", output::safe(&format!("{err:#}"))),
            }
            ExitCode::from(1)
        }
    }
}
