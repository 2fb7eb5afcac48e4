//! `topicscope generate` (hidden): the man pages and the shell completions, made from the clap
//! definitions so they never drift from `--help`. `scripts/package.sh` runs it to put them in the
//! packages; a user can run it too (`topicscope generate completions zsh`).
//!
//! The command line's definition is passed in by the binary (`Cli::command()`): commands never
//! use `crate::cli`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap_complete::Shell;

/// Arguments of `topicscope generate`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[command(subcommand)]
    pub what: GenerateWhat,
}

/// What `topicscope generate` makes.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum GenerateWhat {
    /// Write topicscope.1 and one page per command (topicscope-decode.1, …) into a folder.
    Man {
        /// The folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
    },
    /// Print the completion script for a shell.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// Runs `topicscope generate` for the command line `command`.
pub fn main(args: &GenerateArgs, command: clap::Command) -> ExitCode {
    let result = match &args.what {
        GenerateWhat::Man { out_dir } => man_pages(command, out_dir).map(|written| {
            for path in written {
                println!("{}", path.display());
            }
        }),
        GenerateWhat::Completions { shell } => {
            completions(command, *shell, &mut std::io::stdout().lock())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("topicscope generate: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the man pages of `command` and its visible subcommands into `out_dir`; returns the
/// files written, sorted.
pub fn man_pages(command: clap::Command, out_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot create {}: {error}", out_dir.display()),
        )
    })?;
    clap_mangen::generate_to(command, out_dir)?;
    let mut written: Vec<PathBuf> = std::fs::read_dir(out_dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "1"))
        .collect();
    written.sort();
    Ok(written)
}

/// Writes the completion script of `command` for `shell` to `out`.
pub fn completions(
    mut command: clap::Command,
    shell: Shell,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let name = command.get_name().to_owned();
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut buffer);
    out.write_all(&buffer)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    #[command(name = "demo-tool", version = "1.2.3")]
    struct DemoCli {
        /// Be loud.
        #[arg(long)]
        loud: bool,
        #[command(subcommand)]
        command: Option<DemoCommand>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum DemoCommand {
        /// Say hello.
        Hello,
        /// Not for users.
        #[command(hide = true)]
        Secret,
    }

    fn command() -> clap::Command {
        <DemoCli as clap::CommandFactory>::command()
    }

    #[test]
    fn man_pages_cover_the_visible_commands_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = man_pages(command(), &dir.path().join("man1")).expect("generated");
        let names: Vec<String> = written
            .iter()
            .filter_map(|path| path.file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["demo-tool-hello.1", "demo-tool.1"]);
        let page = std::fs::read_to_string(&written[1]).expect("readable");
        assert!(page.contains(".TH"), "roff: {page}");
        assert!(page.contains("Be loud"), "{page}");
        assert!(page.contains("1.2.3"), "{page}");
    }

    #[test]
    fn completions_name_the_options_for_each_shell() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let mut out = Vec::new();
            completions(command(), shell, &mut out).expect("generated");
            let script = String::from_utf8(out).expect("UTF-8");
            assert!(script.contains("loud"), "{shell}: {script}");
            assert!(script.contains("hello"), "{shell}: {script}");
        }
    }
}
