//! Command-line interface (clap). OWNER: profiles helper.
