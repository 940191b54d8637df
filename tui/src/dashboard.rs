//! Live run dashboard (being built).
pub fn run(opts: tickbench_loadgen::RunOpts) -> anyhow::Result<()> {
    tickbench_loadgen::run(opts)
}
