//! The bus task: one tokio task that owns the NATS connection and carries out the
//! cluster actions of one relay node, in order.

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use async_nats::{ConnectOptions, Event};
use futures_util::StreamExt;
use securecom_proto::cluster::{ClusterAction, ClusterInput, Destination, NodeId};
use securecom_tokio::{BusEnds, ClusterLink};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::credentials::NatsCredentials;
use crate::presence::Jobs;

/// Where and how a node reaches NATS.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NatsOptions {
    /// The NATS server (`nats://host:port`; several, comma-separated, for a NATS cluster).
    pub url: String,
    /// How the node logs in.
    pub credentials: NatsCredentials,
    /// The first token of every subject and the bucket's name prefix, so that several
    /// securecom clusters can share one NATS deployment.
    pub prefix: String,
    /// Copies JetStream keeps of the presence bucket (1 on a single NATS server; 3 on a
    /// NATS cluster of three or more).
    pub replicas: usize,
    /// How long one key-value operation may take before the claim fails.
    pub op_timeout: Duration,
    /// How often the client pings NATS: a silent connection is declared lost after two
    /// unanswered pings.
    pub ping_interval: Duration,
    /// The longest wait between two reconnection attempts (the waits double from 100 ms).
    pub max_reconnect_delay: Duration,
}

impl NatsOptions {
    /// The defaults: prefix `securecom`, one replica, 2 s per operation, a ping every
    /// 5 s, reconnect waits up to 2 s.
    pub fn new(url: impl Into<String>, credentials: NatsCredentials) -> Self {
        NatsOptions {
            url: url.into(),
            credentials,
            prefix: "securecom".to_string(),
            replicas: 1,
            op_timeout: Duration::from_secs(2),
            ping_interval: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(2),
        }
    }

    fn subject(&self, to: &Destination) -> String {
        match to {
            Destination::Node(node) => format!("{}.node.{node}", self.prefix),
            Destination::All => format!("{}.all", self.prefix),
        }
    }

    fn bucket(&self) -> String {
        format!("{}-presence", self.prefix)
    }
}

/// Starts the bus of node `node`: returns the link to give to
/// [`securecom_tokio::Server::bind_clustered`] and the task, which ends once the server
/// has stopped and its last actions (goodbye, releases) are on the bus.
///
/// The task keeps trying to reach NATS, with backoff, for as long as the server runs:
/// until it does, the node serves its local users alone and refuses logins as unavailable.
pub fn spawn(options: NatsOptions, node: NodeId) -> (ClusterLink, JoinHandle<()>) {
    let (link, ends) = ClusterLink::pair();
    let task = tokio::spawn(async move {
        Bus::new(options, node, ends).run().await;
    });
    (link, task)
}

struct Bus {
    options: NatsOptions,
    node: NodeId,
    ends: BusEnds,
    /// What the core was last told: connected or not.
    up: bool,
}

impl Bus {
    fn new(options: NatsOptions, node: NodeId, ends: BusEnds) -> Self {
        Bus {
            options,
            node,
            ends,
            up: false,
        }
    }

    async fn report(&self, input: ClusterInput) {
        // The server has stopped if this fails: the run loop ends on the closed actions.
        let _ = self.ends.inputs.send(input).await;
    }

    async fn run(mut self) {
        let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
        let Some(client) = self.connect(events_tx).await else {
            return;
        };
        let (Ok(mut by_node), Ok(mut by_all)) = (
            client
                .subscribe(self.options.subject(&Destination::Node(self.node.clone())))
                .await,
            client
                .subscribe(self.options.subject(&Destination::All))
                .await,
        ) else {
            tracing::error!("cannot subscribe to the cluster's subjects");
            return;
        };
        let js = jetstream::new(client.clone());
        let (presence, presence_task) =
            crate::presence::spawn(self.ends.inputs.clone(), self.options.op_timeout);
        let mut store: Option<kv::Store> = None;
        let mut watch: Option<kv::Watch> = None;
        let mut retry = Backoff::new(self.options.max_reconnect_delay);
        loop {
            if !self.up && client.connection_state() == async_nats::connection::State::Connected {
                match self.open_store(&js).await {
                    Ok((s, w)) => {
                        store = Some(s);
                        watch = Some(w);
                        self.up = true;
                        retry.reset();
                        tracing::debug!(url = %self.options.url, "presence store open");
                        self.report(ClusterInput::Connected).await;
                    }
                    Err(e) => tracing::warn!("presence store not ready: {e}"),
                }
            }
            let wait = retry.next_delay();
            tokio::select! {
                action = self.ends.actions.recv() => match action {
                    Some(action) => {
                        let store = store.as_ref().filter(|_| self.up);
                        self.carry_out(&client, store, &presence, action).await;
                    }
                    None => {
                        // The server stopped after its last action: let the store's work
                        // (the releases) finish, and make sure every message is sent.
                        drop(presence);
                        let _ = tokio::time::timeout(2 * self.options.op_timeout, presence_task).await;
                        let _ = tokio::time::timeout(self.options.op_timeout, client.flush()).await;
                        return;
                    }
                },
                Some(message) = by_node.next() => {
                    self.report(ClusterInput::Message(message.payload.to_vec())).await;
                }
                Some(message) = by_all.next() => {
                    self.report(ClusterInput::Message(message.payload.to_vec())).await;
                }
                entry = next_entry(watch.as_mut()) => match entry {
                    Some(Ok(entry)) => {
                        let value = matches!(entry.operation, kv::Operation::Put)
                            .then(|| entry.value.to_vec());
                        self.report(ClusterInput::Presence {
                            key: entry.key,
                            revision: entry.revision,
                            value,
                        }).await;
                    }
                    // The watch broke: start over once NATS is reachable.
                    _ => {
                        watch = None;
                        self.lose(&mut store).await;
                    }
                },
                Some(event) = events.recv() => match event {
                    Event::Disconnected => {
                        watch = None;
                        self.lose(&mut store).await;
                    }
                    Event::Connected => tracing::debug!("NATS connected"),
                    other => tracing::warn!("NATS: {other}"),
                },
                () = tokio::time::sleep(wait), if !self.up => {}
            }
        }
    }

    async fn lose(&mut self, store: &mut Option<kv::Store>) {
        *store = None;
        if self.up {
            self.up = false;
            tracing::debug!("NATS connection lost");
            self.report(ClusterInput::Disconnected).await;
        }
    }

    /// Connects, retrying with backoff while the server runs (dropping its actions: the
    /// core knows the bus is down). `None` if the server stopped first.
    async fn connect(
        &mut self,
        events: mpsc::UnboundedSender<Event>,
    ) -> Option<async_nats::Client> {
        let mut backoff = Backoff::new(self.options.max_reconnect_delay);
        loop {
            let cap = self.options.max_reconnect_delay;
            let events = events.clone();
            let mut connect = ConnectOptions::new()
                .name(format!("securecom-relay-{}", self.node))
                .ping_interval(self.options.ping_interval)
                .connection_timeout(self.options.op_timeout)
                .max_reconnects(None)
                .reconnect_delay_callback(move |attempts| Backoff::delay(attempts, cap))
                .event_callback(move |event| {
                    let events = events.clone();
                    async move {
                        let _ = events.send(event);
                    }
                });
            connect = match &self.options.credentials {
                NatsCredentials::None => connect,
                NatsCredentials::UserPassword { user, password } => {
                    connect.user_and_password(user.clone(), password.to_string())
                }
                NatsCredentials::Token(token) => connect.token(token.to_string()),
                NatsCredentials::Nkey(seed) => connect.nkey(seed.to_string()),
            };
            match connect.connect(self.options.url.as_str()).await {
                Ok(client) => return Some(client),
                Err(e) => tracing::warn!(url = %self.options.url, "cannot connect to NATS: {e}"),
            }
            let sleep = tokio::time::sleep(backoff.next_delay());
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    action = self.ends.actions.recv() => match action {
                        // Claims fail at once; everything else is moot while down.
                        Some(ClusterAction::Claim { claim, .. }) => {
                            self.report(ClusterInput::ClaimFailed { claim }).await;
                        }
                        Some(_) => {}
                        None => return None,
                    },
                }
            }
        }
    }

    async fn open_store(
        &self,
        js: &jetstream::Context,
    ) -> Result<(kv::Store, kv::Watch), async_nats::Error> {
        let bucket = self.options.bucket();
        let store = match js.get_key_value(&bucket).await {
            Ok(store) => store,
            Err(_) => {
                js.create_key_value(kv::Config {
                    bucket,
                    description: "securecom: who is online on which relay node".to_string(),
                    history: 1,
                    num_replicas: self.options.replicas,
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await?
            }
        };
        let watch = store.watch_with_history(">").await?;
        Ok((store, watch))
    }

    async fn carry_out(
        &self,
        client: &async_nats::Client,
        store: Option<&kv::Store>,
        presence: &Jobs,
        action: ClusterAction,
    ) {
        match action {
            ClusterAction::Publish { to, bytes } => {
                let subject = self.options.subject(&to);
                if let Err(e) = client.publish(subject, bytes.into()).await {
                    tracing::debug!("bus message not sent: {e}");
                }
            }
            // The store's work goes to its own task, in order, so that bus messages never
            // wait behind a claim's round trip. Its queue is bounded: when the store is that
            // far behind, a claim fails at once (the login is refused as unavailable, as with
            // the store down) and a release is dropped (as one that timed out: its node
            // releases the entry when it next meets it).
            ClusterAction::Claim { claim, .. } => match store {
                Some(store) => {
                    if presence.try_send((store.clone(), action)).is_err() {
                        tracing::debug!("presence store behind or gone: claim failed");
                        self.report(ClusterInput::ClaimFailed { claim }).await;
                    }
                }
                None => self.report(ClusterInput::ClaimFailed { claim }).await,
            },
            release @ ClusterAction::Release { .. } => {
                if let Some(store) = store
                    && presence.try_send((store.clone(), release)).is_err()
                {
                    tracing::debug!("presence store behind or gone: release dropped");
                }
            }
            other => tracing::warn!(?other, "unknown cluster action"),
        }
    }
}

async fn next_entry(watch: Option<&mut kv::Watch>) -> Option<Result<kv::Entry, kv::WatcherError>> {
    match watch {
        Some(watch) => watch.next().await,
        None => std::future::pending().await,
    }
}

/// Doubling waits from 100 ms to a cap, with a little jitter so that nodes cut off
/// together do not reconnect in lockstep.
struct Backoff {
    attempts: usize,
    cap: Duration,
}

impl Backoff {
    fn new(cap: Duration) -> Self {
        Backoff { attempts: 0, cap }
    }

    fn reset(&mut self) {
        self.attempts = 0;
    }

    fn next_delay(&mut self) -> Duration {
        self.attempts = self.attempts.saturating_add(1);
        Self::delay(self.attempts, self.cap)
    }

    fn delay(attempts: usize, cap: Duration) -> Duration {
        let exp = u32::try_from(attempts.min(16)).unwrap_or(16);
        let base = Duration::from_millis(100).saturating_mul(1u32 << exp.saturating_sub(1));
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos() % 50));
        base.min(cap) + Duration::from_millis(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cap = Duration::from_secs(2);
        let first = Backoff::delay(1, cap);
        assert!(first >= Duration::from_millis(100) && first < Duration::from_millis(150));
        let third = Backoff::delay(3, cap);
        assert!(third >= Duration::from_millis(400) && third < Duration::from_millis(450));
        assert!(Backoff::delay(40, cap) < cap + Duration::from_millis(50));
    }

    #[test]
    fn subjects_and_bucket_carry_the_prefix() {
        let options = NatsOptions::new("nats://127.0.0.1:4222", NatsCredentials::None);
        let node = NodeId::new("n1").unwrap();
        assert_eq!(
            options.subject(&Destination::Node(node)),
            "securecom.node.n1"
        );
        assert_eq!(options.subject(&Destination::All), "securecom.all");
        assert_eq!(options.bucket(), "securecom-presence");
    }
}
