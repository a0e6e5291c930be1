//! `hdb compare`: the main job — D against H under the seed's workloads, side by side in
//! one run (see `hdb_tools::compare` for what is measured and why). Prints the report's table
//! on stdout and writes `report.md`, `report.json` and the SVG plots to `--out`. Exits
//! with status 1 if the systems disagreed on an answer (after writing the report).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use hdb_tools::compare::{self, Config, Progress, Scale};

use super::CliError;

/// Arguments of `hdb compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Data size: tiny, small, default (about two minutes on 2 cores in release), large,
    /// or a number of users.
    #[arg(long, default_value = "default")]
    scale: Scale,
    /// Where report.md, report.json and the plots go.
    #[arg(long, default_value = "target/hdb-compare")]
    out: PathBuf,
    /// Seconds each launch-load point runs (overrides the scale's).
    #[arg(long, value_name = "SECS")]
    duration_per_point: Option<f64>,
    /// No progress bars (they are also hidden when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// Runs the comparison.
pub fn run(args: CompareArgs) -> Result<ExitCode, CliError> {
    let duration_per_point = match args.duration_per_point {
        Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => {
            Some(Duration::from_secs_f64(secs))
        }
        Some(secs) => {
            return Err(format!("--duration-per-point {secs}: between 0 and 3600 seconds").into());
        }
        None => None,
    };
    let config = Config {
        scale: args.scale,
        out_dir: args.out,
        duration_per_point,
    };
    let progress = Progress::new(!args.no_progress);
    let report = compare::run(&config, &progress)?;
    let plots = compare::plot::draw_all(&report, &config.out_dir)?;
    report.write(&config.out_dir, &plots)?;
    println!("{}", report.markdown());
    println!("Report: {}", config.out_dir.join("report.md").display());
    println!("JSON:   {}", config.out_dir.join("report.json").display());
    for plot in &plots {
        println!("Plot:   {}", plot.display());
    }
    if report.all_checks_passed() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: the systems disagreed; see the failed checks in the report");
        Ok(ExitCode::FAILURE)
    }
}
