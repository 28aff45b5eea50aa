//! The `chanx-gen` command: parses arguments and hands over to [`chanx_gen::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    chanx_gen::cli::main()
}
