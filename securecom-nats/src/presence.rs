//! The presence store's work: claims and releases, carried out in order on a task of their
//! own, so that a claim's round trip never delays bus messages.

use std::time::Duration;

use async_nats::jetstream::kv;
use securecom_proto::cluster::{ClaimId, ClusterAction, ClusterInput, Expect};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Claims and releases waiting for the store, at most. Each takes a round trip to NATS
/// (up to the operation timeout when NATS is slow), and the core gives up on a claim after
/// its `claim_timeout` (5 s): a longer queue would only hold claims nobody waits for.
pub(crate) const JOB_QUEUE: usize = 256;

/// The worker's queue: a store and a claim or release.
pub(crate) type Jobs = mpsc::Sender<(kv::Store, ClusterAction)>;

/// Starts the worker: it takes `(store, claim or release)` jobs in order and reports claim
/// results to `inputs`. It ends when the job sender is dropped and its queue is empty.
pub(crate) fn spawn(
    inputs: mpsc::Sender<ClusterInput>,
    op_timeout: Duration,
) -> (Jobs, JoinHandle<()>) {
    let (jobs, mut queue) = mpsc::channel::<(kv::Store, ClusterAction)>(JOB_QUEUE);
    let worker = Worker { inputs, op_timeout };
    let task = tokio::spawn(async move {
        while let Some((store, action)) = queue.recv().await {
            worker.carry_out(&store, action).await;
        }
    });
    (jobs, task)
}

struct Worker {
    inputs: mpsc::Sender<ClusterInput>,
    op_timeout: Duration,
}

impl Worker {
    async fn report(&self, input: ClusterInput) {
        let _ = self.inputs.send(input).await;
    }

    async fn carry_out(&self, store: &kv::Store, action: ClusterAction) {
        match action {
            ClusterAction::Claim {
                claim,
                key,
                value,
                expect,
            } => {
                let input = self.claim(store, claim, &key, value, expect).await;
                self.report(input).await;
            }
            ClusterAction::Release { key, revision } => {
                let delete = store.delete_expect_revision(&key, Some(revision));
                // A newer revision is someone else's claim: it stays, as intended.
                let _ = tokio::time::timeout(self.op_timeout, delete).await;
            }
            _ => {}
        }
    }

    async fn claim(
        &self,
        store: &kv::Store,
        claim: ClaimId,
        key: &str,
        value: Vec<u8>,
        expect: Expect,
    ) -> ClusterInput {
        let timeout = self.op_timeout;
        let conflict = match expect {
            Expect::Absent => {
                match tokio::time::timeout(timeout, store.create(key, value.into())).await {
                    Ok(Ok(revision)) => return ClusterInput::Claimed { claim, revision },
                    Ok(Err(e)) if e.kind() == kv::CreateErrorKind::AlreadyExists => true,
                    _ => false,
                }
            }
            Expect::Revision(revision) => {
                match tokio::time::timeout(timeout, store.update(key, value.into(), revision)).await
                {
                    Ok(Ok(revision)) => return ClusterInput::Claimed { claim, revision },
                    Ok(Err(e)) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => true,
                    _ => false,
                }
            }
        };
        if !conflict {
            return ClusterInput::ClaimFailed { claim };
        }
        // Tell the core what is there now, so it decides again with the truth.
        if let Ok(Ok(entry)) = tokio::time::timeout(timeout, store.entry(key)).await {
            let (revision, value) = match entry {
                Some(entry) => (
                    entry.revision,
                    matches!(entry.operation, kv::Operation::Put).then(|| entry.value.to_vec()),
                ),
                None => (0, None),
            };
            if revision > 0 {
                self.report(ClusterInput::Presence {
                    key: key.to_string(),
                    revision,
                    value,
                })
                .await;
            }
        }
        ClusterInput::ClaimConflict { claim }
    }
}
