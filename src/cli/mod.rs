//! Command-line interface of the `anb` binary.

mod transcode;

use std::process::ExitCode;

/// ANB Showcase: a video showcase for basketball players.
#[derive(Debug, clap::Parser)]
#[command(name = "anb", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Processes one clip like the worker does (trim, fit, logo, encode, thumbnail).
    Transcode(transcode::TranscodeArgs),
}

impl Cli {
    /// Runs the chosen command; errors are printed with their causes.
    pub fn run(self) -> ExitCode {
        let outcome = match self.command {
            Command::Transcode(args) => transcode::run(args),
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}
