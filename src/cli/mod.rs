//! Command-line interface of the `anb` binary.

mod reprocess;
mod server;
mod transcode;

use std::process::ExitCode;

/// ANB Showcase: a video showcase for basketball players. With no command, runs the API and
/// the worker in one process on the configured backends (by default: SQLite, local files and
/// the job queue in the database, all under `data/`; nothing to install).
#[derive(Debug, clap::Parser)]
#[command(name = "anb", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The API and the worker in one process (the default).
    All,
    /// The API alone (workers run elsewhere).
    Serve,
    /// The worker alone.
    Worker,
    /// Applies the database migrations and exits (they also run at every start).
    Migrate,
    /// Prints the OpenAPI 3 document (JSON).
    Openapi,
    /// Processes one clip like the worker does: every output of the profile (MP4, HLS ladder,
    /// thumbnail, storyboard) from one decode.
    Transcode(transcode::TranscodeArgs),
    /// Queues processed videos to be processed again from their kept originals with the
    /// current profile (`--video ID` or `--all`); the workers do it.
    Reprocess(reprocess::ReprocessArgs),
}

impl Cli {
    /// Runs the chosen command; errors are printed with their causes.
    pub fn run(self) -> ExitCode {
        let outcome = match self.command.unwrap_or(Command::All) {
            Command::All => server::run(server::Mode::All),
            Command::Serve => server::run(server::Mode::Serve),
            Command::Worker => server::run(server::Mode::Worker),
            Command::Migrate => server::run(server::Mode::Migrate),
            Command::Openapi => {
                println!("{}", anb_http::openapi_json());
                Ok(())
            }
            Command::Transcode(args) => transcode::run(args),
            Command::Reprocess(args) => reprocess::run(args),
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
