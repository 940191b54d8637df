//! Integration tests of the terminal UI, one binary (so it links once): every screen rendered
//! headless on ratatui's `TestBackend` and compared with committed `insta` snapshots, key
//! handling, and the ticker's client pipeline against a real server on 127.0.0.1:0.

mod suite;
