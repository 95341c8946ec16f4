//! The seam between the server and a cluster bus (`securecom-nats`, or your own).

use securecom_proto::cluster::{ClusterAction, ClusterInput};
use tokio::sync::mpsc;

/// How many actions the server hands a bus driver ahead of it by default
/// ([`ClusterLink::pair`]). The core emits one action per session at once when the bus
/// comes back (every name claimed again) and when the node shuts down (every name
/// released): this is above the relay's default `max_connections` (10 000), so that such
/// a burst fits whole and only a bus that falls behind for good loses actions.
pub const DEFAULT_ACTION_QUEUE: usize = 16_384;

/// How many inputs a bus driver hands the server ahead of it.
const INPUT_QUEUE: usize = 1024;

/// The server's two ends of a cluster bus driver: it sends every
/// [`ClusterAction`] of its endpoint down `actions`, in order, and hands every
/// [`ClusterInput`] from `inputs` to the endpoint. The bus driver holds the other ends
/// (see [`ClusterLink::pair`]); when the server stops, it drops `actions` after its last
/// action, so the bus driver can finish them and stop.
///
/// `actions` is bounded: a bus driver that falls that many actions behind (a slow or
/// stalled bus) does not grow the server's memory. The server then fails a claim at
/// once, as if the bus were down (the login is refused as unavailable), and drops any
/// other action: bus messages are best effort, and an entry whose release was lost is
/// released when its node next meets it (docs/PROTOCOL.md, "Presence").
#[derive(Debug)]
pub struct ClusterLink {
    /// Where the server's cluster actions go.
    pub actions: mpsc::Sender<ClusterAction>,
    /// What the bus driver reports.
    pub inputs: mpsc::Receiver<ClusterInput>,
}

/// The bus driver's ends of a [`ClusterLink`].
#[derive(Debug)]
pub struct BusEnds {
    /// The server's actions, in order; `None` once the server has stopped.
    pub actions: mpsc::Receiver<ClusterAction>,
    /// Where to report.
    pub inputs: mpsc::Sender<ClusterInput>,
}

impl ClusterLink {
    /// A connected pair: the server's link and the bus driver's ends, with room for
    /// [`DEFAULT_ACTION_QUEUE`] actions.
    ///
    /// ```
    /// let (link, bus) = securecom_tokio::ClusterLink::pair();
    /// # drop((link, bus));
    /// ```
    pub fn pair() -> (ClusterLink, BusEnds) {
        ClusterLink::with_capacity(DEFAULT_ACTION_QUEUE)
    }

    /// A connected pair with room for `actions` actions (at least one).
    ///
    /// ```
    /// let (link, bus) = securecom_tokio::ClusterLink::with_capacity(64);
    /// assert_eq!(link.actions.max_capacity(), 64);
    /// # drop(bus);
    /// ```
    pub fn with_capacity(actions: usize) -> (ClusterLink, BusEnds) {
        let (actions, actions_rx) = mpsc::channel(actions.max(1));
        let (inputs_tx, inputs) = mpsc::channel(INPUT_QUEUE);
        (
            ClusterLink { actions, inputs },
            BusEnds {
                actions: actions_rx,
                inputs: inputs_tx,
            },
        )
    }
}
