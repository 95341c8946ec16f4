//! What every fuzz target links: the allocator.
//!
//! The stateful targets copy a start state and drop it again in every execution, and move
//! every message through fresh buffers: with glibc's allocator, `malloc` and `free` were
//! a fifth of the multi-party targets' time. mimalloc takes a fraction of that: `cluster`
//! ran 17% and `scheduler` 10% more executions per second beside the glibc build
//! (docs/FUZZING-RESULTS.md). It is the fuzz crate's alone: the library never chooses an
//! allocator for its users.
#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
