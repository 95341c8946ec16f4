//! The key schedule.
//!
//! ```text
//! handshake_secret = HKDF-Extract(salt = "securecom/1 handshake", ikm = X25519(e_c, e_s))
//! th_hello         = SHA-256(ClientHello || ServerHello)
//! client_hs        = Expand-Label(handshake_secret, "client handshake", th_hello)
//! server_hs        = Expand-Label(handshake_secret, "server handshake", th_hello)
//! *_finished_key   = Expand-Label(*_hs, "finished", "")
//! th_full          = SHA-256(ClientHello .. ClientFinished)
//! client_standard  = Expand-Label(handshake_secret, "client standard", th_full)
//! server_standard  = Expand-Label(handshake_secret, "server standard", th_full)
//! client_request   = Expand-Label(handshake_secret, "client request", th_full)
//! server_request   = Expand-Label(handshake_secret, "server request", th_full)
//! exporter         = Expand-Label(handshake_secret, "exporter", th_full)
//! ```

use crate::codec::ContentType;
use crate::crypto::{EphemeralKeyPair, Secret, TranscriptHash};
use crate::record::{RecordOpener, RecordSealer, TrafficKeys};
use crate::session::{Role, SessionSecrets};

use super::HandshakeError;

/// Salt of the handshake secret: names the protocol and version.
const HANDSHAKE_SALT: &[u8] = b"securecom/1 handshake";

/// The secrets and record protection of the encrypted part of the handshake.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct HandshakeKeys {
    handshake_secret: Secret,
    pub(crate) client_finished: Secret,
    pub(crate) server_finished: Secret,
    /// Seals our encrypted handshake messages.
    pub(crate) tx: RecordSealer,
    /// Opens the peer's.
    pub(crate) rx: RecordOpener,
}

impl HandshakeKeys {
    /// Runs the DH (consuming our ephemeral secret) and derives the handshake keys.
    pub(crate) fn derive(
        role: Role,
        ours: EphemeralKeyPair,
        theirs: &[u8; 32],
        th_hello: &TranscriptHash,
    ) -> Result<Self, HandshakeError> {
        let handshake_secret = ours
            .agree(theirs, HANDSHAKE_SALT)
            .map_err(|_| HandshakeError::NonContributoryKeyShare)?;
        let client_hs = handshake_secret.derive(b"client handshake", th_hello);
        let server_hs = handshake_secret.derive(b"server handshake", th_hello);
        let client_finished = client_hs.derive(b"finished", b"");
        let server_finished = server_hs.derive(b"finished", b"");
        let (tx, rx) = match role {
            Role::Client => (client_hs, server_hs),
            Role::Server => (server_hs, client_hs),
        };
        Ok(HandshakeKeys {
            handshake_secret,
            client_finished,
            server_finished,
            tx: RecordSealer::new(ContentType::ENCRYPTED_HANDSHAKE, TrafficKeys::new(tx)),
            rx: RecordOpener::new(ContentType::ENCRYPTED_HANDSHAKE, TrafficKeys::new(rx)),
        })
    }

    /// The session secrets, bound to the whole transcript. Consumes (and so zeroizes) the
    /// handshake secrets.
    pub(crate) fn into_session_secrets(self, th_full: &TranscriptHash) -> SessionSecrets {
        let s = &self.handshake_secret;
        SessionSecrets {
            client_standard: s.derive(b"client standard", th_full),
            server_standard: s.derive(b"server standard", th_full),
            client_request: s.derive(b"client request", th_full),
            server_request: s.derive(b"server request", th_full),
            exporter: s.derive(b"exporter", th_full),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;

    use super::*;
    use crate::testkit::{TestRng, hex};

    const VECTORS: &str = include_str!("../../tests/vectors/key_schedule.txt");

    /// Every secret of the schedule for fixed ephemerals (test RNG seeds 1 and 2) and fixed
    /// transcript hashes, pinned in `tests/vectors/key_schedule.txt`.
    #[test]
    fn key_schedule_vectors() {
        let client = EphemeralKeyPair::generate(&mut TestRng::new(1));
        let server = EphemeralKeyPair::generate(&mut TestRng::new(2));
        let th_hello = [0x11u8; 32];
        let th_full = [0x22u8; 32];
        let server_public = *server.public();
        let keys = HandshakeKeys::derive(Role::Client, client, &server_public, &th_hello).unwrap();
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: &[u8]| lines.push((String::from(k), hex(v)));
        put("handshake_secret", keys.handshake_secret.as_bytes());
        put("client_finished_key", keys.client_finished.as_bytes());
        put("server_finished_key", keys.server_finished.as_bytes());
        let s = keys.into_session_secrets(&th_full);
        put("client_standard", s.client_standard.as_bytes());
        put("server_standard", s.server_standard.as_bytes());
        put("client_request", s.client_request.as_bytes());
        put("server_request", s.server_request.as_bytes());
        put("exporter", s.exporter.as_bytes());
        let text: String = lines
            .iter()
            .map(|(k, v)| alloc::format!("{k} = {v}\n"))
            .collect();
        #[cfg(feature = "std")]
        if std::env::var_os("SECURECOM_UPDATE_VECTORS").is_some() {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/vectors/key_schedule.txt"
            );
            std::fs::write(path, &text).unwrap();
            return;
        }
        assert_eq!(VECTORS, text, "the key schedule changed");
    }
}
