//! `quantriet bench …`: measured in one run against a baseline measured in the same run.

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum Which {
    /// Attendance recording through the real HTTP API vs. a hello-world route.
    Attendance,
}

pub async fn run(_which: Which, _json: bool, _config: &Config) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
