//! The command line of `hdb serve` and `hdb passwd`, kept here so the tools binary
//! only forwards to it.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Args};
use hdb::engine::DatabaseOptions;
use hdb::engine::Durability;

use crate::{AuthMethod, Config, PasswordFile, TlsFiles};

/// `hdb serve`: serve a database over PostgreSQL's wire protocol.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("auth").required(true).args(["trust", "password_file"])))]
pub struct ServeArgs {
    /// The database file (created if missing).
    pub path: PathBuf,
    /// Address and port to listen on (port 0: any free port, printed on start).
    #[arg(long, default_value = crate::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Let anyone who can reach the port in, as any user, without a password.
    #[arg(long)]
    pub trust: bool,
    /// Require SCRAM-SHA-256 against the users of this file (see `hdb passwd`).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Connections served at once; more are refused (SQLSTATE 53300).
    #[arg(long, default_value_t = crate::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a connection may sit idle inside a transaction before it is closed and
    /// its transaction rolled back (0: never).
    #[arg(long, default_value_t = 0)]
    pub idle_in_transaction_timeout: u64,
    /// Seconds shutdown (SIGTERM, SIGINT) lets open transactions finish.
    #[arg(long, default_value_t = crate::DEFAULT_SHUTDOWN_GRACE.as_secs())]
    pub shutdown_grace: u64,
    /// Commit durability: `full` syncs the log on every commit (group commit); `off`
    /// does not (faster, loses recent commits on a crash).
    #[arg(long, default_value = "full", value_parser = ["full", "off"])]
    pub durability: String,
}

/// `hdb passwd`: add or replace a user in a password file.
#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// The password file (created if missing).
    pub file: PathBuf,
    /// The user name.
    pub user: String,
}

/// Runs `hdb serve`.
pub fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let auth = match (&args.password_file, args.trust) {
        (Some(file), _) => {
            let users = PasswordFile::read(file)?;
            if users.is_empty() {
                return Err(
                    format!("{}: no users, so nobody could connect", file.display()).into(),
                );
            }
            AuthMethod::Scram(Arc::new(users))
        }
        (None, _) => AuthMethod::Trust,
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let durability = match args.durability.as_str() {
        "off" => Durability::Off,
        _ => Durability::Full,
    };
    let options = DatabaseOptions {
        durability,
        ..DatabaseOptions::default()
    };
    let db = hdb::Database::open_with(&args.path, options)?;
    let config = Config {
        listen: args.listen,
        auth,
        tls,
        max_connections: args.max_connections,
        idle_in_transaction_timeout: (args.idle_in_transaction_timeout > 0)
            .then(|| Duration::from_secs(args.idle_in_transaction_timeout)),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
    };
    let path = args.path.display().to_string();
    crate::serve(db, config, |address| {
        // One line on stdout that scripts and tests wait for.
        println!("hdb serve: {path} listening on {address}");
        let _ = std::io::stdout().flush();
    })?;
    eprintln!("hdb serve: shut down cleanly");
    Ok(())
}

/// Runs `hdb passwd`: reads the password from the first line of stdin.
pub fn passwd(args: PasswdArgs) -> Result<(), Box<dyn std::error::Error>> {
    if args.user.is_empty() || args.user.contains([':', '\n']) {
        return Err("a user name must be non-empty, without ':' or newlines".into());
    }
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err("no password on stdin".into());
    }
    let existing = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    let prefix = format!("{}:", args.user);
    let mut lines: Vec<String> = existing
        .lines()
        .filter(|line| !line.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    lines.push(format!("{prefix}{}", crate::verifier(password)));
    let text = lines.join("\n") + "\n";
    // Check before writing: the file must still read back.
    PasswordFile::parse(&text)?;
    std::fs::write(&args.file, text)?;
    Ok(())
}
