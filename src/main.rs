//! The `chanx-gen` command: parses arguments and hands over to [`chanx_gen::cli`].

use std::process::ExitCode;

/// jemalloc: generation allocates and frees millions of small buffers (tokens, strings), for which
/// it is markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    chanx_gen::cli::main()
}
