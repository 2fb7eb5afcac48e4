//! `topicscope hash-id`: the aedifion hash id (topic postfix) of datapoint names.

use std::io::Write;
use std::process::ExitCode;

use crate::model::aedifion::hash_id::{
    self, Base62Variant, DEFAULT_HASH_ID_LENGTH, HASH_ID_LENGTHS,
};

/// Output format, shown by `topicscope hash-id --help`.
pub const HASH_ID_HELP: &str = "\
Output: one line per name, `NAME<TAB>ID`. With --variant both, names whose SHA-1 digest starts
with a zero byte (about 1 in 256) get two lines: the legacy id first (pybase62 <= 0.6.0), then
the pybase62 1.0.0 id; for all other names both variants agree and one line is printed.
With --variant both, a third column says which variant a line is: legacy, v1 or both.

The id is the first N characters of base62(SHA-1(UTF-8 name)), N = the project's hash id
length (4 to 12, default 8). Names are hashed exactly as given: no trimming, no unescaping.

Examples:
  topicscope hash-id RoomTemperature
      RoomTemperature\tPm2cx76I
  topicscope hash-id --length 12 --variant both dp-64";

/// Which base62 encoding(s) to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VariantArg {
    /// pybase62 <= 0.6.0: leading zero bytes vanish (the likelier one for aedifion).
    Legacy,
    /// pybase62 1.0.0: leading zero bytes become `0` + count.
    V1,
    /// Both, marked.
    Both,
}

/// Arguments of `topicscope hash-id`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(after_long_help = HASH_ID_HELP)]
pub struct HashIdArgs {
    /// The project's hash id length (4 to 12).
    #[arg(long, short = 'l', value_name = "N", default_value_t = DEFAULT_HASH_ID_LENGTH,
          value_parser = parse_length)]
    pub length: usize,
    /// Which pybase62 behaviour to follow.
    #[arg(long, value_enum, default_value = "legacy")]
    pub variant: VariantArg,
    /// Datapoint names, exactly as they appear in line protocol after unescaping.
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,
}

fn parse_length(text: &str) -> Result<usize, String> {
    let length: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if HASH_ID_LENGTHS.contains(&length) {
        Ok(length)
    } else {
        Err(format!(
            "hash ids are {} to {} characters long",
            HASH_ID_LENGTHS.start(),
            HASH_ID_LENGTHS.end()
        ))
    }
}

/// The output lines (without newlines) for `args`.
pub fn lines(args: &HashIdArgs) -> Vec<String> {
    let mut lines = Vec::with_capacity(args.names.len());
    for name in &args.names {
        let legacy = || hash_id::hash_id_with(name, args.length, Base62Variant::Legacy);
        let v1 = || hash_id::hash_id_with(name, args.length, Base62Variant::Pybase62V1);
        match args.variant {
            VariantArg::Legacy => lines.push(format!("{name}\t{}", legacy())),
            VariantArg::V1 => lines.push(format!("{name}\t{}", v1())),
            VariantArg::Both => {
                let (legacy, v1) = (legacy(), v1());
                if legacy == v1 {
                    lines.push(format!("{name}\t{legacy}\tboth"));
                } else {
                    lines.push(format!("{name}\t{legacy}\tlegacy"));
                    lines.push(format!("{name}\t{v1}\tv1"));
                }
            }
        }
    }
    lines
}

/// Runs the command as the binary does: prints, and returns the exit code.
pub fn main(args: &HashIdArgs) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    for line in lines(args) {
        if let Err(error) = writeln!(stdout, "{line}") {
            eprintln!("topicscope hash-id: cannot write the result: {error}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(variant: VariantArg, length: usize, names: &[&str]) -> HashIdArgs {
        HashIdArgs {
            length,
            variant,
            names: names.iter().map(|name| (*name).to_owned()).collect(),
        }
    }

    #[test]
    fn default_is_the_legacy_id_of_length_eight() {
        assert_eq!(
            lines(&args(VariantArg::Legacy, 8, &["RoomTemperature", "dp-64"])),
            ["RoomTemperature\tPm2cx76I", "dp-64\t5KyL5sGB"]
        );
    }

    #[test]
    fn both_variants_are_marked_and_differ_only_for_leading_zero_digests() {
        assert_eq!(
            lines(&args(VariantArg::Both, 12, &["dp-58946", "a"])),
            [
                "dp-58946\tsz4OS0g42QNU\tlegacy",
                "dp-58946\t02sz4OS0g42Q\tv1",
                "a\tJFz5KuQyxyOA\tboth"
            ]
        );
    }

    #[test]
    fn lengths_outside_four_to_twelve_are_refused() {
        assert!(parse_length("3").is_err());
        assert!(parse_length("13").is_err());
        assert!(parse_length("x").is_err());
        assert_eq!(parse_length("12"), Ok(12));
    }
}
