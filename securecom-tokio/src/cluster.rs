//! The seam between the server and a cluster bus (`securecom-nats`, or your own).

use securecom_proto::cluster::{ClusterAction, ClusterInput};
use tokio::sync::mpsc;

/// The server's two ends of a cluster bus driver: it sends every
/// [`ClusterAction`] of its endpoint down `actions`, in order, and hands every
/// [`ClusterInput`] from `inputs` to the endpoint. The bus driver holds the other ends
/// (see [`ClusterLink::pair`]); when the server stops, it drops `actions` after its last
/// action, so the bus driver can finish them and stop.
#[derive(Debug)]
pub struct ClusterLink {
    /// Where the server's cluster actions go.
    pub actions: mpsc::UnboundedSender<ClusterAction>,
    /// What the bus driver reports.
    pub inputs: mpsc::Receiver<ClusterInput>,
}

/// The bus driver's ends of a [`ClusterLink`].
#[derive(Debug)]
pub struct BusEnds {
    /// The server's actions, in order; `None` once the server has stopped.
    pub actions: mpsc::UnboundedReceiver<ClusterAction>,
    /// Where to report.
    pub inputs: mpsc::Sender<ClusterInput>,
}

impl ClusterLink {
    /// A connected pair: the server's link and the bus driver's ends.
    ///
    /// ```
    /// let (link, bus) = securecom_tokio::ClusterLink::pair();
    /// # drop((link, bus));
    /// ```
    pub fn pair() -> (ClusterLink, BusEnds) {
        let (actions, actions_rx) = mpsc::unbounded_channel();
        let (inputs_tx, inputs) = mpsc::channel(1024);
        (
            ClusterLink { actions, inputs },
            BusEnds {
                actions: actions_rx,
                inputs: inputs_tx,
            },
        )
    }
}
