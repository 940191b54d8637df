//! The experiment file: a TOML matrix of transports × clients × tick rate × poll interval × action
//! rate, plus durations, seed, repetitions and the claim the experiment tests.
//!
//! ```toml
//! name = "polling-waste"                      # [a-z0-9_-]+, names the results folder
//! claim = "About 30 % of polling requests come back empty"
//! description = "Optional longer text for the report."
//! transports = ["poll"]                       # required, non-empty
//! clients = [100]                             # default: the load generator's default
//! rate = [0.5, 1, 5, 50]                      # server tick rate, ticks/s (default: the server's)
//! poll_interval = ["1s", "2s", "5s"]          # poll/jsonp only
//! action_rate = [0.5, 2]                      # piggyback only: the client's own requests/s
//! duration = "20s"                            # measured window per cell (required)
//! warmup = "3s"                               # default 2s
//! ramp = "2s"                                 # default 1s
//! longpoll_timeout = "30s"                    # optional, whole seconds, 1-120
//! watch = 10                                  # optional: symbols each client watches, or "all"
//! targets = ["tickbench", "nchan", "pushpin"]  # optional: servers measured, each cell on each
//! links = [{ protocol = "h1" }, { protocol = "h2", tls = true, tabs_per_conn = 100 }]
//! seed = 1                                    # default 1; repetition k uses seed + k - 1
//! repetitions = 1                             # default 1
//!
//! [verdict]                                   # optional: how the report judges the claim
//! kind = "empty_share"                        # empty_share | crossover | inverse_latency | scale
//! expected_pct = 30
//! ```
//!
//! `links` says how a cell's clients reach the server: `protocol` `h1` or `h2`, `tls`, and
//! `tabs_per_conn` (clients sharing one HTTP/2 connection); each key is optional.
//!
//! `targets` measures each cell against each server: tickbench's own (the embedded server, or the
//! sweep's `--target`), or nginx + Nchan / Pushpin started from `peers/` for the cell as
//! `tickbench run --targets` starts them; a transport a server lacks is not run against it.
//!
//! Every list is one axis of the matrix; an absent or empty list is one cell that takes the load
//! generator's default. `poll_interval` only changes what `poll`/`jsonp` do and `action_rate` only
//! what `piggyback` does, so those axes are not multiplied into the other transports' cells.
//!
//! (Over 500 lines: more than half is the tests of the format's errors, kept beside the format.)
//!
//! Validation happens *inside* deserialization (newtypes whose `Deserialize` rejects bad values),
//! so every error, including "rate must be > 0", carries the TOML span: the message names the line,
//! the column and the field at fault.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tickbench_loadgen::targets::TargetKind;
use tickbench_wire::transport::Kind;
use tickbench_wire::Transport;

mod cell;
mod error;
mod link;
mod watch;

pub use cell::Cell;
pub use error::ExperimentError;
use error::{key_offset, key_position, line_col, unknown_field};
pub use link::LinkAxis;
pub use watch::WatchSpec;

use crate::check::Check;
use crate::values::{Count, Dur, LongpollTimeout, Name, NonEmpty, NonZeroDur, Positive};

/// A parsed, validated experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Short machine name: the results folder and the report title use it.
    pub name: Name,
    /// The claim under test, one sentence, quoted in the report.
    pub claim: String,
    /// Optional longer context for the report.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Transports to measure; every cell measures exactly one.
    pub transports: NonEmpty<Transport>,
    /// Simulated clients per cell.
    #[serde(default)]
    pub clients: Vec<Count>,
    /// Server tick rate (ticks/s, all symbols together).
    #[serde(default)]
    pub rate: Vec<Positive>,
    /// Interval between a polling client's requests (poll, jsonp).
    #[serde(default)]
    pub poll_interval: Vec<Dur>,
    /// Application requests per second per client (piggyback).
    #[serde(default)]
    pub action_rate: Vec<Positive>,
    /// How the clients reach the server: HTTP version, TLS, tabs per connection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkAxis>,
    /// Measured window of each cell.
    pub duration: NonZeroDur,
    /// Settling time after the ramp, not recorded.
    #[serde(default = "default_warmup")]
    pub warmup: Dur,
    /// Time over which the clients are started.
    #[serde(default = "default_ramp")]
    pub ramp: Dur,
    /// Long-poll hold timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longpoll_timeout: Option<LongpollTimeout>,
    /// Symbols each client watches, or every symbol (default: the load generator's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchSpec>,
    /// Servers each cell is measured on (default: tickbench's own, or the sweep's `--target`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetKind>,
    /// Seed of the tick simulation and of the clients' random choices.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How many times the whole matrix runs; the report uses the median of the repetitions.
    #[serde(default = "default_repetitions")]
    pub repetitions: Count,
    /// How the report decides whether the claim held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Check>,
}

fn default_warmup() -> Dur {
    Dur(Duration::from_secs(2))
}
fn default_ramp() -> Dur {
    Dur(Duration::from_secs(1))
}
fn default_seed() -> u64 {
    1
}
fn default_repetitions() -> Count {
    Count(1)
}

impl Experiment {
    /// Reads and validates an experiment file.
    pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::Read {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        Experiment::parse(&text, &path.display().to_string())
    }

    /// Parses and validates experiment TOML; `origin` names the source in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Experiment, ExperimentError> {
        let exp: Experiment = toml::from_str(text).map_err(|e| {
            let start = e.span().map(|s| s.start).unwrap_or(0);
            // An unknown key inside a table is reported at the table; point at the key itself.
            let start = unknown_field(e.message())
                .and_then(|k| key_offset(text, start, k))
                .unwrap_or(start);
            let (line, column) = line_col(text, start);
            ExperimentError::Invalid {
                path: origin.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        exp.check_axes(text, origin)?;
        Ok(exp)
    }

    /// Cross-field checks (an axis given for transports it cannot affect), reported at the line of
    /// the key so the author sees which list is pointless.
    fn check_axes(&self, text: &str, origin: &str) -> Result<(), ExperimentError> {
        let at_key = |key: &str, message: String| {
            let (line, column) = key_position(text, key);
            ExperimentError::Invalid {
                path: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let ts = &self.transports.0;
        let mut seen = Vec::new();
        for t in ts {
            if seen.contains(t) {
                return Err(at_key(
                    "transports",
                    format!("transport '{t}' is listed twice"),
                ));
            }
            seen.push(*t);
        }
        let mut targets = Vec::new();
        for t in &self.targets {
            if targets.contains(t) {
                return Err(at_key("targets", format!("target '{t}' is listed twice")));
            }
            targets.push(*t);
        }
        if !self.poll_interval.is_empty() && !ts.iter().any(|t| uses_poll_interval(*t)) {
            return Err(at_key(
                "poll_interval",
                format!(
                    "poll_interval only affects {}",
                    affected(uses_poll_interval)
                ),
            ));
        }
        if !self.action_rate.is_empty() && !ts.iter().any(|t| uses_action_rate(*t)) {
            return Err(at_key(
                "action_rate",
                format!("action_rate only affects {}", affected(uses_action_rate)),
            ));
        }
        Ok(())
    }

    /// The matrix as a flat list of cells, in run order: repetition outermost (so an interrupted
    /// sweep has whole repetitions), then transport, clients, rate, poll interval, action rate,
    /// link, target (innermost, so the servers of one point run one after another); a target
    /// that lacks the transport has no cell.
    pub fn cells(&self) -> Vec<Cell> {
        fn axis<T: Copy>(v: &[T]) -> Vec<Option<T>> {
            if v.is_empty() {
                vec![None]
            } else {
                v.iter().copied().map(Some).collect()
            }
        }
        let clients = axis(&self.clients.iter().map(|c| c.0).collect::<Vec<_>>());
        let rates = axis(&self.rate.iter().map(|r| r.0).collect::<Vec<_>>());
        let intervals = axis(&self.poll_interval.iter().map(|d| d.0).collect::<Vec<_>>());
        let actions = axis(&self.action_rate.iter().map(|r| r.0).collect::<Vec<_>>());
        let links = axis(&self.links.iter().map(|l| l.0).collect::<Vec<_>>());
        let targets = axis(&self.targets);
        let mut out = Vec::new();
        for rep in 0..self.repetitions.0 {
            for &transport in &self.transports.0 {
                let intervals = if uses_poll_interval(transport) {
                    intervals.clone()
                } else {
                    vec![None]
                };
                let actions = if uses_action_rate(transport) {
                    actions.clone()
                } else {
                    vec![None]
                };
                for &c in &clients {
                    for &r in &rates {
                        for &i in &intervals {
                            for &a in &actions {
                                for &link in &links {
                                    for &target in &targets {
                                        if target.is_some_and(|k| !k.native(transport)) {
                                            continue;
                                        }
                                        let mut cell = Cell {
                                            index: out.len(),
                                            id: String::new(),
                                            transport,
                                            clients: c,
                                            rate: r,
                                            poll_interval: i,
                                            action_rate: a,
                                            link,
                                            target,
                                            repetition: rep as u32 + 1,
                                            seed: self.seed.wrapping_add(rep),
                                        };
                                        cell.id = cell.make_id(self.repetitions.0 > 1);
                                        out.push(cell);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Wall time of one cell without the per-cell overhead (server start, floor measurement).
    pub fn cell_time(&self) -> Duration {
        self.duration.0 + self.warmup.0 + self.ramp.0
    }

    /// Shrinks every duration for a smoke run (`--quick`): the matrix is unchanged.
    pub fn quicken(&mut self) {
        self.duration = NonZeroDur(self.duration.0.min(Duration::from_secs(2)));
        self.warmup = Dur(self.warmup.0.min(Duration::from_millis(500)));
        self.ramp = Dur(self.ramp.0.min(Duration::from_millis(500)));
    }
}

/// True for the transports whose behaviour `poll_interval` sets: those that ask on a schedule.
pub fn uses_poll_interval(t: Transport) -> bool {
    match t.kind() {
        Kind::Polled => true,
        Kind::Piggyback | Kind::Held | Kind::Stream | Kind::Duplex => false,
    }
}

/// True for the transports whose behaviour `action_rate` sets: those whose ticks ride on the
/// client's own application requests.
pub fn uses_action_rate(t: Transport) -> bool {
    match t.kind() {
        Kind::Piggyback => true,
        Kind::Polled | Kind::Held | Kind::Stream | Kind::Duplex => false,
    }
}

/// "the poll and jsonp transports, and none is listed" / "the piggyback transport, which is not
/// listed": the transports an axis affects, named from [`Transport::ALL`].
fn affected(uses: fn(Transport) -> bool) -> String {
    let names: Vec<&str> = Transport::ALL
        .into_iter()
        .filter(|t| uses(*t))
        .map(Transport::name)
        .collect();
    match names.as_slice() {
        [one] => format!("the {one} transport, which is not listed"),
        [rest @ .., last] => format!(
            "the {} and {last} transports, and none is listed",
            rest.join(", ")
        ),
        [] => "no transport".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "polling-waste"
claim = "About 30 % of polling requests come back empty"
transports = ["poll", "sse"]
clients = [100]
rate = [0.5, 1, 5]
poll_interval = ["1s", "2s"]
duration = "20s"
warmup = "3s"
ramp = "2s"
seed = 7
repetitions = 2
"#;

    fn err(text: &str) -> String {
        Experiment::parse(text, "x.toml").unwrap_err().to_string()
    }

    #[test]
    fn parses_and_defaults() {
        let e = Experiment::parse(GOOD, "x.toml").unwrap();
        assert_eq!(e.name.0, "polling-waste");
        assert_eq!(e.duration.0, Duration::from_secs(20));
        assert_eq!(e.repetitions.0, 2);
        let min = r#"
name = "m"
claim = "c"
transports = ["sse"]
duration = "1s"
"#;
        let m = Experiment::parse(min, "m.toml").unwrap();
        assert_eq!(m.warmup.0, Duration::from_secs(2));
        assert_eq!(m.seed, 1);
        let cells = m.cells();
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].id, "sse");
        assert_eq!(cells[0].clients, None);
    }

    #[test]
    fn matrix_expansion_skips_axes_a_transport_ignores() {
        let e = Experiment::parse(GOOD, "x.toml").unwrap();
        let cells = e.cells();
        // per repetition: poll = 1 client × 3 rates × 2 intervals, sse = 3 rates (no interval axis)
        assert_eq!(cells.len(), 2 * (6 + 3));
        assert_eq!(cells[0].id, "poll-c100-r0.5-i1s-rep1");
        assert_eq!(cells[6].id, "sse-c100-r0.5-rep1");
        assert!(cells
            .iter()
            .filter(|c| c.transport == Transport::Sse)
            .all(|c| c.poll_interval.is_none()));
        // repetition outermost, seeds differ per repetition, indices are positions
        assert!(cells[..9].iter().all(|c| c.repetition == 1 && c.seed == 7));
        assert!(cells[9..].iter().all(|c| c.repetition == 2 && c.seed == 8));
        assert!(cells.iter().enumerate().all(|(i, c)| c.index == i));
        let mut ids: Vec<_> = cells.iter().map(|c| c.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), cells.len(), "cell ids are unique");
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let text = GOOD.replace("seed = 7", "sede = 7");
        let m = err(&text);
        assert!(m.starts_with("x.toml:11:"), "{m}");
        assert!(m.contains("unknown field `sede`"), "{m}");
    }

    #[test]
    fn bad_values_name_their_line() {
        let m = err(&GOOD.replace("rate = [0.5, 1, 5]", "rate = [0.5, -1, 5]"));
        assert!(m.starts_with("x.toml:6:"), "{m}");
        assert!(m.contains("out of range"), "{m}");

        let m = err(&GOOD.replace("\"20s\"", "\"20 parsecs\""));
        assert!(m.starts_with("x.toml:8:"), "{m}");
        assert!(m.contains("invalid duration"), "{m}");

        let m = err(&GOOD.replace("\"sse\"", "\"carrier-pigeon\""));
        assert!(m.starts_with("x.toml:4:"), "{m}");
        assert!(m.contains("carrier-pigeon"), "{m}");

        let m = err(&GOOD.replace("clients = [100]", "clients = [0]"));
        assert!(m.starts_with("x.toml:5:"), "{m}");

        let m = err(&GOOD.replace("name = \"polling-waste\"", "name = \"Bad Name\""));
        assert!(m.starts_with("x.toml:2:"), "{m}");

        let m = err(&GOOD.replace("transports = [\"poll\", \"sse\"]", "transports = []"));
        assert!(m.starts_with("x.toml:4:") && m.contains("empty"), "{m}");

        let m = err(&GOOD.replace("duration = \"20s\"\n", ""));
        assert!(m.contains("missing field `duration`"), "{m}");

        let m = err("name = \"a\"\nclaim = \"b\"\ntransports = [\"sse\"]\nduration = \"1s\"\nlongpoll_timeout = \"500ms\"\n");
        assert!(
            m.starts_with("x.toml:5:") && m.contains("longpoll_timeout"),
            "{m}"
        );

        let m = err("name = \"a\"\nclaim = \"b\"\ntransports = [\"sse\"\n");
        assert!(m.starts_with("x.toml:"), "{m}");
    }

    #[test]
    fn unknown_key_in_the_verdict_table_points_at_the_key() {
        let text = format!("{GOOD}\n[verdict]\nkind = \"scale\"\ncpu_grwth_max = 3\n");
        let m = err(&text);
        assert!(m.starts_with("x.toml:16:1:"), "{m}");
        assert!(m.contains("cpu_grwth_max"), "{m}");
        let m = Experiment::load(Path::new("/nonexistent/x.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(m.matches("No such file").count(), 1, "{m}");
    }

    #[test]
    fn axis_for_absent_transport_is_rejected_at_its_line() {
        let text = GOOD.replace("[\"poll\", \"sse\"]", "[\"sse\"]");
        let m = err(&text);
        assert!(m.starts_with("x.toml:7:"), "{m}");
        assert!(m.contains("poll_interval"), "{m}");
        let m = err(&GOOD.replace("[\"poll\", \"sse\"]", "[\"sse\", \"sse\"]"));
        assert!(m.contains("listed twice"), "{m}");
    }

    #[test]
    fn links_are_an_axis_and_checked() {
        let text = "name = \"a\"\nclaim = \"b\"\ntransports = [\"sse\"]\nduration = \"1s\"\n\
                    links = [{ protocol = \"h1\" }, { protocol = \"h2\", tabs_per_conn = 100 }, { tls = true }]\n";
        let e = Experiment::parse(text, "x.toml").unwrap();
        let ids: Vec<String> = e.cells().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["sse-h1", "sse-h2-t100", "sse-h1-tls"]);
        let m = err(&text.replace("protocol = \"h2\", ", ""));
        assert!(
            m.starts_with("x.toml:5:") && m.contains("needs protocol"),
            "{m}"
        );
        let m = err(&text.replace("{ tls = true }", "{ tsl = true }"));
        assert!(m.starts_with("x.toml:5:") && m.contains("tsl"), "{m}");
        let m = err(&text.replace("\"h1\"", "\"h3\""));
        assert!(m.contains("h3"), "{m}");
    }

    #[test]
    fn targets_are_the_innermost_axis() {
        let text = "name = \"a\"\nclaim = \"b\"\ntransports = [\"sse\", \"multipart\"]\n\
                    clients = [10, 20]\nduration = \"1s\"\nwatch = \"all\"\n\
                    targets = [\"tickbench\", \"nchan\", \"pushpin\"]\n";
        let e = Experiment::parse(text, "x.toml").unwrap();
        assert_eq!(e.watch, Some(WatchSpec::All));
        let ids: Vec<String> = e.cells().into_iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "sse-c10-tickbench",
                "sse-c10-nchan",
                "sse-c10-pushpin",
                "sse-c20-tickbench",
                "sse-c20-nchan",
                "sse-c20-pushpin",
                // Pushpin has no multipart/mixed: no cell.
                "multipart-c10-tickbench",
                "multipart-c10-nchan",
                "multipart-c20-tickbench",
                "multipart-c20-nchan",
            ]
        );
        let m = err(&text.replace("\"pushpin\"]", "\"nchan\"]"));
        assert!(
            m.starts_with("x.toml:7:") && m.contains("listed twice"),
            "{m}"
        );
        let m = err(&text.replace("\"pushpin\"]", "\"redis\"]"));
        assert!(m.starts_with("x.toml:7:") && m.contains("redis"), "{m}");
        let m = err(&text.replace("\"all\"", "\"most\""));
        assert!(m.starts_with("x.toml:6:") && m.contains("\"all\""), "{m}");
        let m = err(&text.replace("\"all\"", "0"));
        assert!(
            m.starts_with("x.toml:6:") && m.contains("out of range"),
            "{m}"
        );
    }

    #[test]
    fn quicken_caps_durations() {
        let mut e = Experiment::parse(GOOD, "x.toml").unwrap();
        e.quicken();
        assert_eq!(e.cell_time(), Duration::from_secs(3));
    }

    /// The shipped experiments parse, name a verdict, and fit the ~10 minute budget on a 2-core
    /// machine (3 s of server start-up and floor measurement per cell assumed).
    #[test]
    fn shipped_experiments_parse_and_fit_the_budget() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let e = Experiment::load(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(e.verdict.is_some(), "{} names no verdict", e.name);
                let cells = e.cells().len() as u32;
                let total = (e.cell_time() + Duration::from_secs(3)) * cells;
                assert!(total < Duration::from_secs(600), "{}: {total:?}", e.name);
                names.push(e.name.0);
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "http2-multiplexing",
                "longpoll-vs-rate",
                "piggyback",
                "polling-waste",
                "scale",
                "servers",
                "tls-cost",
                "websocket-vs-comet"
            ]
        );
    }
}
