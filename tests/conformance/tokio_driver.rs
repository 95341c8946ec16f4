//! The async driver (`securecom::tokio`) behind the blocking harness: its own multi-thread
//! runtime, `block_on` for each call, and each client's events forwarded from tokio's
//! channel to a std one by a task (the std receiver ends when tokio's does).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};

use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::chat::SafetyNumber;
use securecom::proto::client::{ChatStatus, ClientError, ClientEvent};
use securecom::proto::handshake::{ClientConfig, ServerConfig};
use securecom::proto::identity::Username;
use securecom::proto::relay::RelayConfig;
use securecom::tokio::{Client, ClientHandle, Server, ServerOptions};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::harness::{Driver, Handle, RunningServer, WAIT};

/// Runtime threads: the machine has two cores.
const WORKER_THREADS: usize = 2;

/// The async driver on its own runtime.
pub(crate) struct Tokio {
    runtime: Arc<Runtime>,
}

/// A server task on the runtime.
pub(crate) struct TokioServer {
    runtime: Arc<Runtime>,
    addr: SocketAddr,
    /// Completing it makes `run` shut down; `None` once stopped.
    stop: Option<oneshot::Sender<()>>,
    running: Option<JoinHandle<io::Result<()>>>,
}

/// A client handle, with the runtime its calls run on.
#[derive(Clone)]
pub(crate) struct TokioHandle {
    runtime: Arc<Runtime>,
    inner: ClientHandle,
}

impl Driver for Tokio {
    type Server = TokioServer;
    type Handle = TokioHandle;

    fn new() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .enable_all()
            .build()?;
        Ok(Tokio {
            runtime: Arc::new(runtime),
        })
    }

    fn start_server(
        &self,
        config: Arc<ServerConfig>,
        relay: RelayConfig,
    ) -> io::Result<TokioServer> {
        let server =
            self.runtime
                .block_on(Server::bind("127.0.0.1:0", config, ServerOptions { relay }))?;
        let addr = server.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let running = self.runtime.spawn(server.run(async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        Ok(TokioServer {
            runtime: self.runtime.clone(),
            addr,
            stop: Some(stop),
            running: Some(running),
        })
    }

    fn run_shut_down(
        &self,
        config: Arc<ServerConfig>,
        relay: RelayConfig,
    ) -> io::Result<SocketAddr> {
        self.runtime.block_on(async {
            let server = Server::bind("127.0.0.1:0", config, ServerOptions { relay }).await?;
            let addr = server.local_addr()?;
            // A shutdown signal that has already completed.
            tokio::time::timeout(WAIT, server.run(std::future::ready(())))
                .await
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the server did not return within {WAIT:?}"),
                    )
                })??;
            Ok(addr)
        })
    }

    fn connect(
        &self,
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        options: ClientOptions,
    ) -> Result<(TokioHandle, Receiver<ClientEvent>), ConnectError> {
        let (inner, mut events) = self
            .runtime
            .block_on(Client::connect(addr, config, options))?;
        let (forward, received) = mpsc::channel();
        self.runtime.spawn(async move {
            while let Some(event) = events.recv().await {
                if forward.send(event).is_err() {
                    break;
                }
            }
        });
        let handle = TokioHandle {
            runtime: self.runtime.clone(),
            inner,
        };
        Ok((handle, received))
    }
}

impl Tokio {
    /// The runtime, for servers other than the plain one (the cluster tests' nodes).
    #[allow(dead_code, reason = "used by the cluster tests (tests/cluster.rs)")]
    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }
}

impl TokioServer {
    fn stop_now(&mut self) -> io::Result<()> {
        let (Some(stop), Some(running)) = (self.stop.take(), self.running.take()) else {
            return Ok(());
        };
        let _ = stop.send(());
        // The timer is made inside the runtime: it needs the runtime's time driver.
        let stopped = self
            .runtime
            .block_on(async { tokio::time::timeout(WAIT, running).await });
        match stopped {
            Ok(Ok(returned)) => returned,
            Ok(Err(join)) => Err(io::Error::other(join)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the server did not stop within {WAIT:?}"),
            )),
        }
    }
}

impl RunningServer for TokioServer {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn stop(mut self) -> io::Result<()> {
        self.stop_now()
    }
}

impl Drop for TokioServer {
    fn drop(&mut self) {
        let _ = self.stop_now();
    }
}

impl Handle for TokioHandle {
    fn username(&self) -> &Username {
        self.inner.username()
    }

    fn session_id(&self) -> u64 {
        self.inner.session_id()
    }

    fn list_users(&self) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.list_users())
    }

    fn request_chat(&self, user: Username) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.request_chat(user))
    }

    fn accept(&self) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.accept())
    }

    fn deny(&self) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.deny())
    }

    fn withdraw_request(&self) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.withdraw_request())
    }

    fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.send_text(text))
    }

    fn leave_chat(&self) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.leave_chat())
    }

    fn exit(&self) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.exit())
    }

    fn register_callback(&self, port: u16) -> Result<(), ClientError> {
        self.runtime.block_on(self.inner.register_callback(port))
    }

    fn callback_addr(&self) -> Option<SocketAddr> {
        self.inner.callback_addr()
    }

    fn status(&self) -> Result<(ChatStatus, Option<SafetyNumber>), ClientError> {
        self.runtime.block_on(self.inner.status())
    }
}
