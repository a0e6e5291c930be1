//! Who may connect: `trust` (anyone, only when asked for) or SCRAM-SHA-256 against a
//! password file; and what the server tells every client once it is in
//! (ParameterStatus).
//!
//! ## The password file
//!
//! One user per line, `name:verifier`, where the verifier is PostgreSQL's stored form
//! of a SCRAM-SHA-256 secret (what `pg_authid.rolpassword` holds):
//!
//! ```text
//! # comments and blank lines are ignored
//! alice:SCRAM-SHA-256$4096:<salt, base64>$<StoredKey, base64>:<ServerKey, base64>
//! ```
//!
//! The server never holds a password, only what proves knowledge of one; [`verifier`]
//! makes a line's verifier from a password (`hdb serve --add-user NAME FILE`), and a
//! verifier copied from PostgreSQL works as it is. The SCRAM exchange itself is
//! pgwire's (`SASLAuthStartupHandler`); this module supplies the secrets.

use std::collections::HashMap;
use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::Sink;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, LoginInfo, Password, ServerParameterProvider, StartupHandler,
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, PidSecretKeyGenerator, RandomPidSecretKeyGenerator};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

/// The SCRAM iteration count of verifiers made here (PostgreSQL's default).
pub const SCRAM_ITERATIONS: usize = 4096;

/// The bytes of salt in verifiers made here (PostgreSQL's default).
const SALT_LEN: usize = 16;

/// The `server_version` reported to clients: the PostgreSQL version whose behaviour H
/// follows (clients such as psql and JDBC choose their catalog queries by it).
pub const SERVER_VERSION: &str = "15.0 (hdb)";

/// How clients authenticate.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    /// Anyone who can reach the port is let in as whoever they say they are.
    Trust,
    /// SCRAM-SHA-256 against these users' verifiers.
    Scram(Arc<PasswordFile>),
}

/// Users and their SCRAM verifiers, read from a password file.
#[derive(Default)]
pub struct PasswordFile {
    users: HashMap<String, Verifier>,
}

impl Debug for PasswordFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the verifiers themselves.
        f.debug_struct("PasswordFile")
            .field("users", &self.users.len())
            .finish()
    }
}

/// One user's SCRAM-SHA-256 verifier.
#[derive(Clone)]
struct Verifier {
    iterations: usize,
    salt: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl PasswordFile {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<PasswordFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read password file {}: {e}", path.display()))?;
        PasswordFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<PasswordFile, String> {
        let mut users = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, verifier) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: expected name:verifier", number + 1))?;
            let verifier =
                parse_verifier(verifier).map_err(|e| format!("line {}: {e}", number + 1))?;
            if users.insert(name.to_string(), verifier).is_some() {
                return Err(format!("line {}: user {name:?} appears twice", number + 1));
            }
        }
        Ok(PasswordFile { users })
    }

    /// How many users it holds.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether it holds no user (then nobody can connect).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// Reads `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
fn parse_verifier(text: &str) -> Result<Verifier, String> {
    let bad = || "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>".to_string();
    let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or_else(bad)?;
    let (parameters, keys) = rest.split_once('$').ok_or_else(bad)?;
    let (iterations, salt) = parameters.split_once(':').ok_or_else(bad)?;
    let (stored_key, server_key) = keys.split_once(':').ok_or_else(bad)?;
    let decode = |what: &str, s: &str| {
        BASE64
            .decode(s)
            .map_err(|e| format!("{what} is not base64: {e}"))
    };
    let verifier = Verifier {
        iterations: iterations
            .parse()
            .map_err(|_| format!("bad iteration count {iterations:?}"))?,
        salt: decode("salt", salt)?,
        stored_key: decode("StoredKey", stored_key)?,
        server_key: decode("ServerKey", server_key)?,
    };
    if verifier.iterations == 0
        || verifier.stored_key.len() != 32
        || verifier.server_key.len() != 32
    {
        return Err(bad());
    }
    Ok(verifier)
}

/// A SCRAM-SHA-256 verifier for `password`, with a fresh random salt, in the form the
/// password file (and PostgreSQL) stores.
pub fn verifier(password: &str) -> String {
    let salt: [u8; SALT_LEN] = rand::random();
    let salted = gen_salted_password(password, &salt, SCRAM_ITERATIONS);
    match ScramSecret::verifier_from_salted_password(salt.to_vec(), salted, SCRAM_ITERATIONS) {
        ScramSecret::Verifier {
            salt,
            iterations,
            stored_key,
            server_key,
        } => format!(
            "SCRAM-SHA-256${iterations}:{}${}:{}",
            BASE64.encode(salt),
            BASE64.encode(stored_key),
            BASE64.encode(server_key)
        ),
        // verifier_from_salted_password always returns a Verifier.
        ScramSecret::SaltedPassword { .. } => unreachable!("a verifier was asked for"),
    }
}

#[async_trait]
impl AuthSource for PasswordFile {
    /// No password is stored, only verifiers, so methods that need one (cleartext, MD5)
    /// never succeed.
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_owned(),
        ))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default();
        let verifier = self
            .users
            .get(user)
            .ok_or_else(|| PgWireError::InvalidPassword(user.to_owned()))?;
        Ok((
            ScramSecret::Verifier {
                salt: verifier.salt.clone(),
                iterations: verifier.iterations,
                stored_key: verifier.stored_key.clone(),
                server_key: verifier.server_key.clone(),
            },
            None,
        ))
    }
}

/// The ParameterStatus values sent after authentication: what psql, JDBC and the rest
/// read to decide how to talk to the server.
#[derive(Debug, Default)]
pub struct ServerParameters;

impl ServerParameterProvider for ServerParameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        let metadata = client.metadata();
        let mut parameters: HashMap<String, String> = [
            ("server_version", SERVER_VERSION),
            ("server_encoding", "UTF8"),
            // H speaks UTF-8 only; clients that asked for another encoding are told.
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("IntervalStyle", "postgres"),
            // H's timestamps have no time zone; UTC is what `now()` reads.
            ("TimeZone", "UTC"),
            ("integer_datetimes", "on"),
            ("standard_conforming_strings", "on"),
            ("is_superuser", "on"),
            ("default_transaction_read_only", "off"),
            ("in_hot_standby", "off"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(user) = metadata.get(pgwire::api::METADATA_USER) {
            parameters.insert("session_authorization".into(), user.clone());
        }
        let application = metadata
            .get(pgwire::api::METADATA_APPLICATION_NAME)
            .cloned()
            .unwrap_or_default();
        parameters.insert("application_name".into(), application);
        Some(parameters)
    }
}

/// Lets every client in (the `trust` method), with the same parameters and cancel key
/// as the SCRAM path.
#[derive(Debug)]
pub struct TrustStartup {
    parameters: ServerParameters,
    keys: RandomPidSecretKeyGenerator,
}

#[async_trait]
impl StartupHandler for TrustStartup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(startup) = &message {
            protocol_negotiation(client, startup).await?;
            save_startup_parameters_to_metadata(client, startup);
            let (pid, secret) = self.keys.generate(client);
            client.set_pid_and_secret_key(pid, secret);
            finish_authentication(client, &self.parameters).await?;
        }
        Ok(())
    }
}

/// The startup handler of the configured method.
pub enum Authenticator {
    Trust(TrustStartup),
    Scram(SASLAuthStartupHandler<ServerParameters>),
}

impl Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Authenticator::Trust(_) => "Authenticator::Trust",
            Authenticator::Scram(_) => "Authenticator::Scram",
        })
    }
}

impl Authenticator {
    /// The handler for `method`.
    pub fn new(method: &AuthMethod) -> Authenticator {
        match method {
            AuthMethod::Trust => Authenticator::Trust(TrustStartup {
                parameters: ServerParameters,
                keys: RandomPidSecretKeyGenerator::default(),
            }),
            AuthMethod::Scram(file) => {
                let source: Arc<dyn AuthSource> = file.clone();
                Authenticator::Scram(
                    SASLAuthStartupHandler::new(Arc::new(ServerParameters))
                        .with_scram(ScramAuth::new(source)),
                )
            }
        }
    }

    /// Handles one message of the startup phase.
    pub async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Authenticator::Trust(handler) => handler.on_startup(client, message).await,
            Authenticator::Scram(handler) => handler.on_startup(client, message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_made_here_read_back() {
        let line = format!("alice:{}", verifier("secret"));
        let file = PasswordFile::parse(&format!("# users\n\n{line}\n")).unwrap();
        assert_eq!(file.len(), 1);
        let v = &file.users["alice"];
        assert_eq!(v.iterations, SCRAM_ITERATIONS);
        assert_eq!(v.salt.len(), SALT_LEN);
        // Two verifiers of the same password differ by their salt.
        assert_ne!(verifier("secret"), verifier("secret"));
    }

    #[test]
    fn a_postgresql_verifier_is_accepted() {
        // The shape of pg_authid.rolpassword: 16 bytes of salt, two 32-byte keys.
        let line = "bob:SCRAM-SHA-256$4096:yFbOkU2Vxj1Tj+Mk3wbeGA==$0wxGRbUXwNMcV3aGGhCZRuzk5FWt5Hhs4F1GXxKZ5dY=:DfS9RDs6VFI5rmDbwUKnOpUvMN99bXpU1HxZ+B+nZ0w=";
        assert_eq!(PasswordFile::parse(line).unwrap().len(), 1);
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        for bad in [
            "alice",
            "alice:md5abcdef",
            "alice:SCRAM-SHA-256$x:c2FsdA==$a:b",
            "alice:SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:c2hvcnQ=",
        ] {
            let error = PasswordFile::parse(&format!("\n{bad}")).unwrap_err();
            assert!(error.starts_with("line 2:"), "{bad}: {error}");
        }
        let twice = format!("a:{}\na:{}", verifier("x"), verifier("y"));
        assert!(PasswordFile::parse(&twice).is_err());
    }
}
