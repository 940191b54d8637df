//! Black-box tests of the quote server over real sockets (one test binary, so it links once).
//! Servers run with rate 0 and are driven by `ServerHandle::publish`, so every expected tick is
//! known; reads from streams are incremental with a timeout.

mod common;
mod determinism;
mod direct;
mod errors;
mod fanout;
mod golden;
mod h2;
mod hostile;
mod in_process;
mod limits;
mod market;
mod page;
mod polling;
mod replay;
mod restart;
mod shutdown;
mod slow;
mod slowdown;
mod streams;
mod tls;
mod ws;
