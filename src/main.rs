//! The `chanx-gen` command: parses arguments and hands over to [`chanx_gen::cli`].

use std::process::ExitCode;

/// jemalloc: generation allocates and frees millions of small buffers (tokens, strings), for which
/// it is markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, which it reads by this symbol's name when it starts, before `main`:
/// `thp:always` asks for transparent huge pages wherever the system grants them on request (its
/// `madvise` mode), so that a large document's generation takes a third of the page faults and
/// about a tenth less time (docs/decisions.md 26). A thin pointer to a NUL-terminated string, as
/// jemalloc's `const char *malloc_conf` is.
#[allow(unsafe_code)] // Naming a symbol is unsafe; this one is jemalloc's documented entry point.
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: &u8 = &b"thp:always\0"[0];

fn main() -> ExitCode {
    chanx_gen::cli::main()
}
