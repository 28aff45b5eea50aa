//! The `chanx-gen` command: parses arguments and hands over to [`chanx_gen::cli`].

use std::process::ExitCode;

/// jemalloc: generation allocates and frees millions of small buffers (tokens, strings), for which
/// it is markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // A thread's exit makes jemalloc return its arena's free pages to the system at once when no
    // other thread uses the arena, unless background threads do that later: at the end of a
    // generation that is every render worker, one after the other, each with a TLB shootdown, while
    // the command waits (1.5 ms of a 1 MB spec's ~68 ms). The process ends before a background
    // thread would get to it. Without the setting (an allocator built without it), nothing changes
    // but the time.
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    chanx_gen::cli::main()
}
