//! `hdb migrate`: move a D store's documents into a table of an H database.
//!
//! A thin layer over [`hdb_tools::migrate::migrate`]: it turns flags into
//! [`MigrateOptions`], prints inference findings and the summary, and exits non-zero
//! when verification finds a mismatch or when more documents were rejected (over all
//! runs of this migration) than `--allow-rejects` allows — by default none, so a schema
//! that fits no document cannot end in a cheerful "MATCH" and exit 0. Interrupting it (Ctrl-C, SIGTERM, a kill) is
//! safe at any moment: progress is committed with each batch, and running the same
//! command again resumes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use hdb_tools::migrate::{
    ExtraFields, FollowOptions, MigrateOptions, OnBadDocument, REJECTED_TABLE, SchemaSource,
    migrate,
};

use super::CliError;

/// What to do with a document that does not fit the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BadDocumentPolicy {
    /// Record it with its key and reason, count it, and go on.
    Skip,
    /// Stop at the first one (batches committed so far stay; a rerun resumes).
    Abort,
}

/// What to do with a document's field that has no column in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtraFieldPolicy {
    /// The document is bad (see --on-bad-document).
    Error,
    /// Leave the field behind and load the rest of the document.
    Ignore,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 when H holds every document of D that was not rejected and at most
--allow-rejects documents were rejected over all runs; 1 otherwise (the summary says
why). Rejected documents are listed, with the reason, in H's table hdb_migrate_rejected:
  hdb sql H_PATH -c 'SELECT doc_key, reason FROM hdb_migrate_rejected'")]
pub struct MigrateArgs {
    /// D's store directory (read from its log file; D may be running).
    #[arg(long = "from", value_name = "D_PATH")]
    from: PathBuf,
    /// H's database file (created if missing).
    #[arg(long = "to", value_name = "H_PATH")]
    to: PathBuf,
    /// The target table [default: the table the schema creates, or `documents`].
    #[arg(long)]
    table: Option<String>,
    /// A file with the CREATE TABLE statement, or `infer` to infer it from the documents.
    #[arg(long, default_value = "infer", value_name = "FILE.sql|infer")]
    schema: String,
    /// The column that receives D's key (the table's primary key).
    #[arg(long, default_value = "key")]
    key_column: String,
    /// Documents (or log records when following) per transaction.
    #[arg(long, default_value_t = 20_000)]
    batch_size: usize,
    /// Threads for the bulk load: above one, that many threads convert documents beside
    /// the committing thread [default: one per core, at most 4].
    #[arg(long)]
    workers: Option<usize>,
    /// What to do with a document that does not fit the table.
    #[arg(long, value_enum, default_value_t = BadDocumentPolicy::Skip)]
    on_bad_document: BadDocumentPolicy,
    /// How many rejected documents (over all runs) still count as success.
    #[arg(long, default_value_t = 0, value_name = "N")]
    allow_rejects: u64,
    /// What to do with a document's field that has no column in the table.
    #[arg(long, value_enum, default_value_t = ExtraFieldPolicy::Error)]
    extra_fields: ExtraFieldPolicy,
    /// After the bulk load, keep applying D's new writes from its log.
    #[arg(long)]
    follow: bool,
    /// With --follow: stop once every write in D's log is applied.
    #[arg(long, requires = "follow")]
    until_caught_up: bool,
    /// Do not show the progress bar (it is never shown when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
}

pub fn run(args: MigrateArgs) -> Result<ExitCode, CliError> {
    let schema = match args.schema.as_str() {
        "infer" => SchemaSource::Infer,
        path => SchemaSource::Sql(
            std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?,
        ),
    };
    let mut options = MigrateOptions::new(&args.from, &args.to);
    options.table = args.table;
    options.schema = schema;
    options.key_column = args.key_column;
    options.batch_size = args.batch_size;
    if let Some(workers) = args.workers {
        options.workers = workers.max(1);
    }
    options.on_bad_document = match args.on_bad_document {
        BadDocumentPolicy::Skip => OnBadDocument::Skip,
        BadDocumentPolicy::Abort => OnBadDocument::Abort,
    };
    options.extra_fields = match args.extra_fields {
        ExtraFieldPolicy::Error => ExtraFields::Error,
        ExtraFieldPolicy::Ignore => ExtraFields::Ignore,
    };
    options.follow = args.follow.then(|| FollowOptions {
        until_caught_up: args.until_caught_up,
        ..FollowOptions::default()
    });
    options.progress = !args.no_progress;
    let report = migrate(&options)?;
    print!("{}", report.summary());
    if !report.verification.matches() {
        eprintln!("error: verification failed: H does not hold what D holds");
        return Ok(ExitCode::FAILURE);
    }
    let rejected = report.total_rejected;
    if rejected > args.allow_rejects {
        eprintln!(
            "error: {rejected} document{s} rejected, more than --allow-rejects {allowed} \
             allows; see H's table {REJECTED_TABLE} for the reasons",
            s = if rejected == 1 { " was" } else { "s were" },
            allowed = args.allow_rejects,
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
