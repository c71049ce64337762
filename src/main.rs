//! The `anb` command: ANB Showcase's tools in one binary.

mod cli;

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    cli::Cli::parse().run()
}
