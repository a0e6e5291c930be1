//! TLS with rustls: the server's certificate chain and private key from PEM files.
//!
//! A client that asks for TLS (SSLRequest, or a direct TLS handshake with the
//! `postgresql` ALPN protocol) gets it when `--tls-cert` and `--tls-key` were given, and
//! is refused it (and goes on in the clear, or gives up, as its sslmode says) otherwise.

use std::path::PathBuf;
use std::sync::Arc;

use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::tokio_rustls::rustls::ServerConfig;
use pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
use pgwire::tokio::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::ServeError;

/// The ALPN protocol name of PostgreSQL's direct TLS negotiation.
const POSTGRESQL_ALPN: &[u8] = b"postgresql";

/// Where the certificate chain and key are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads the files and builds the acceptor.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    let tls_error = |what: &str, e: &dyn std::fmt::Display| ServeError::Tls(format!("{what}: {e}"));
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls_error(&files.cert.display().to_string(), &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&files.cert.display().to_string(), &e))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate found",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| tls_error(&files.key.display().to_string(), &e))?;
    // rustls is built with one crypto provider (ring, through pgwire), its default.
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_error("certificate and key", &e))?;
    config.alpn_protocols = vec![POSTGRESQL_ALPN.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
