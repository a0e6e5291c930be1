//! A server on a free loopback port for one test, stopped (gracefully) when dropped.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use hdb_server::{AuthMethod, Config, Server};

pub mod wire;

pub struct TestServer {
    pub addr: SocketAddr,
    pub path: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    _dir: tempfile::TempDir,
}

/// The configuration tests use unless they say otherwise.
pub fn config(auth: AuthMethod) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        auth,
        tls: None,
        max_connections: 20,
        idle_in_transaction_timeout: None,
        shutdown_grace: Duration::from_secs(5),
    }
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(config(AuthMethod::Trust))
    }

    pub fn start_with(config: Config) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("served.db");
        let db = hdb::Database::open(&path).expect("the database opens");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, address) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let server = Server::bind(db, config).await.map_err(|e| e.to_string())?;
                let _ = ready.send(server.local_addr().map_err(|e| e.to_string()));
                server
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
                    .map_err(|e| e.to_string())
            })
        });
        let addr = address
            .recv_timeout(Duration::from_secs(30))
            .expect("the server starts")
            .expect("the server has an address");
        TestServer {
            addr,
            path,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// A libpq-style connection string for user `user`.
    pub fn url(&self, user: &str) -> String {
        format!(
            "host={} port={} user={user} dbname=hdb connect_timeout=10",
            self.addr.ip(),
            self.addr.port()
        )
    }

    /// Stops the server gracefully and returns how `run` ended.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| "the server panicked".to_string())?,
            None => Ok(()),
        }
    }
}

/// A single-threaded runtime for a test's client.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A tokio-postgres client of `server`, as user `tester`, its connection driven by a task.
pub async fn connect(server: &TestServer) -> tokio_postgres::Client {
    let (client, connection) =
        tokio_postgres::connect(&server.url("tester"), tokio_postgres::NoTls)
            .await
            .expect("connects");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}
