//! The server side of the handshake: one struct per expected message.
//!
//! The server keeps nothing about a user until the client has proved its identity: the
//! state of a handshake in progress lives in the [`ServerHandshake`] value alone, and the
//! application hears of the user only through [`ServerProgress::Authenticated`].

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use crate::codec::{Codec, Deframer};
use crate::crypto::{EphemeralKeyPair, finished_mac, verify_finished};
use crate::identity::{PublicKey, Username};
use crate::session::{CloseReason, PeerIdentity, Role, Session, SessionKeys};
use crate::time::Instant;

use super::io::{Expect, HandshakeIo, check_deadline, expect_message, message, read_frame};
use super::messages::{
    ClientFinished, ClientHello, ClientIdentity, ClientVerify, Finished, HandshakeType, Hello,
    RANDOM_LEN, ServerCertificate, ServerCrl, ServerFinished, ServerHello, ServerVerify, Verify,
    Welcome,
};
use super::schedule::HandshakeKeys;
use super::{
    CLIENT_SIGNATURE_CONTEXT, HandshakeError, PROTOCOL_VERSION, SERVER_SIGNATURE_CONTEXT,
    ServerConfig, signed_content,
};

/// The server's handshake with one connecting client. See the
/// [module documentation](super) for the driving contract.
pub struct ServerHandshake {
    config: Arc<ServerConfig>,
    deframer: Deframer,
    pub(super) io: HandshakeIo,
    deadline: Instant,
    /// When the handshake started: its whole deadline counts from here once the
    /// ClientHello is in (until then the shorter hello deadline holds).
    started: Instant,
    state: State,
}

/// The result of feeding input to a [`ServerHandshake`].
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
pub enum ServerProgress {
    /// More messages are needed; all the input was consumed.
    Continue(ServerHandshake),
    /// The client proved its identity; accept or reject it.
    Authenticated {
        /// The authenticated client, waiting for the application's decision.
        client: AuthenticatedClient,
        /// Bytes of the input taken; the rest belongs to the session.
        consumed: usize,
    },
}

#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
enum State {
    Hello(ExpectClientHello),
    Identity(ExpectClientIdentity),
    Verify(ExpectClientVerify),
    Finished(ExpectClientFinished),
}

#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
struct ExpectClientHello {
    ephemeral: EphemeralKeyPair,
    random: [u8; RANDOM_LEN],
}

impl ServerHandshake {
    /// Fuzzing only: a copy while the handshake waits for the ClientHello (a connection
    /// that sent nothing yet) or for the client's identity (its whole final flight), so
    /// that a fuzz target can start from a login about to complete; `None` in between.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn try_clone(&self) -> Option<ServerHandshake> {
        let state = match &self.state {
            State::Hello(hello) => State::Hello(hello.clone()),
            State::Identity(identity) => State::Identity(identity.clone()),
            State::Verify(_) | State::Finished(_) => return None,
        };
        Some(ServerHandshake {
            config: self.config.clone(),
            deframer: self.deframer.clone(),
            io: self.io.clone(),
            deadline: self.deadline,
            started: self.started,
            state,
        })
    }
}

#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
struct ExpectClientIdentity {
    keys: HandshakeKeys,
}

struct ExpectClientVerify {
    keys: HandshakeKeys,
    username: Username,
    /// `None` for an unknown user: the handshake goes on to the same point of failure as a
    /// wrong key, so the two cannot be told apart from outside.
    registered: Option<PublicKey>,
}

struct ExpectClientFinished {
    keys: HandshakeKeys,
    username: Username,
    key: PublicKey,
}

#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
enum Step {
    Next(State),
    Authenticated {
        username: Username,
        key: PublicKey,
        keys: SessionKeys,
    },
}

impl fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Hello(_) => "ExpectClientHello",
            State::Identity(_) => "ExpectClientIdentity",
            State::Verify(_) => "ExpectClientVerify",
            State::Finished(_) => "ExpectClientFinished",
        };
        f.debug_struct("ServerHandshake")
            .field("state", &state)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl ServerHandshake {
    /// Prepares for a new connection: draws the server's random and ephemeral key. `now`
    /// starts the handshake timer.
    pub fn new<R: CryptoRng + ?Sized>(
        config: Arc<ServerConfig>,
        rng: &mut R,
        now: Instant,
    ) -> Self {
        let mut random = [0u8; RANDOM_LEN];
        rng.fill_bytes(&mut random);
        let ephemeral = EphemeralKeyPair::generate(rng);
        let deadline = now + config.hello_timeout();
        ServerHandshake {
            config,
            deframer: Deframer::new(),
            io: HandshakeIo::default(),
            deadline,
            started: now,
            state: State::Hello(ExpectClientHello { ephemeral, random }),
        }
    }

    /// Bytes waiting to be written to the client.
    pub fn output(&self) -> &[u8] {
        &self.io.out
    }

    /// Marks the first `n` bytes of [`ServerHandshake::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        self.io.consume_output(n);
    }

    /// When [`ServerHandshake::handle_timeout`] must be called: the hello deadline until the
    /// ClientHello arrives, then the handshake's deadline, counted from the start. (Always `Some`: the `Option` is the vocabulary every machine of
    /// this crate shares.)
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        Some(self.deadline)
    }

    /// Fails the handshake if its deadline has passed.
    pub fn handle_timeout(self, now: Instant) -> Result<Self, HandshakeError> {
        check_deadline(now, self.deadline)?;
        Ok(self)
    }

    /// Processes bytes received from the client.
    pub fn handle_input(
        mut self,
        now: Instant,
        data: &[u8],
    ) -> Result<ServerProgress, HandshakeError> {
        check_deadline(now, self.deadline)?;
        let mut consumed = 0;
        loop {
            consumed += self.deframer.push(data.get(consumed..).unwrap_or(&[]));
            while let Some(frame) = self.deframer.next_frame()? {
                let expect = match &mut self.state {
                    State::Hello(_) => Expect::Plaintext,
                    State::Identity(s) => Expect::Sealed(&mut s.keys.rx),
                    State::Verify(s) => Expect::Sealed(&mut s.keys.rx),
                    State::Finished(s) => Expect::Sealed(&mut s.keys.rx),
                };
                let msg = message(read_frame(frame, expect)?)?;
                let step = match self.state {
                    State::Hello(s) => s.handle(&self.config, &mut self.io, msg),
                    State::Identity(s) => s.handle(&self.config, &mut self.io, msg),
                    State::Verify(s) => s.handle(&self.config, &mut self.io, msg),
                    State::Finished(s) => s.handle(&mut self.io, msg),
                }?;
                match step {
                    Step::Next(state) => {
                        // Past the ClientHello: the whole handshake timeout applies.
                        self.deadline = self.started + self.config.handshake_timeout;
                        self.state = state;
                    }
                    Step::Authenticated {
                        username,
                        key,
                        keys,
                    } => {
                        let client = AuthenticatedClient {
                            username,
                            key,
                            keys,
                            deframer: core::mem::take(&mut self.deframer),
                            out: core::mem::take(&mut self.io.out),
                        };
                        return Ok(ServerProgress::Authenticated { client, consumed });
                    }
                }
            }
            if consumed >= data.len() {
                return Ok(ServerProgress::Continue(self));
            }
        }
    }
}

impl ExpectClientHello {
    fn handle(
        self,
        config: &ServerConfig,
        io: &mut HandshakeIo,
        msg: &[u8],
    ) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::CLIENT_HELLO)?;
        let ClientHello(hello) = ClientHello::decode(msg)?;
        if hello.version != PROTOCOL_VERSION {
            return Err(HandshakeError::UnsupportedVersion {
                ours: PROTOCOL_VERSION,
                theirs: hello.version,
            });
        }
        io.transcript.add(msg);
        let server_hello = ServerHello(Hello {
            version: PROTOCOL_VERSION,
            random: self.random,
            key_share: *self.ephemeral.public(),
        });
        io.send_plaintext(&server_hello)?;
        let th_hello = io.transcript.current();
        let mut keys =
            HandshakeKeys::derive(Role::Server, self.ephemeral, &hello.key_share, &th_hello)?;

        // The CA's current CRL (or none) first: the client checks the chain against it.
        let crl = ServerCrl {
            crl: config.flight_crl().map(|served| served.der().to_vec()),
        };
        io.send_sealed(&mut keys.tx, &crl)?;
        let chain = ServerCertificate {
            chain: config.credentials.chain().to_vec(),
        };
        io.send_sealed(&mut keys.tx, &chain)?;
        let signed = signed_content(SERVER_SIGNATURE_CONTEXT, &io.transcript.current());
        let verify = ServerVerify(Verify {
            signature: config.credentials.identity().sign(&signed),
        });
        io.send_sealed(&mut keys.tx, &verify)?;
        let finished = ServerFinished(Finished {
            mac: finished_mac(&keys.server_finished, &io.transcript.current()),
        });
        io.send_sealed(&mut keys.tx, &finished)?;
        Ok(Step::Next(State::Identity(ExpectClientIdentity { keys })))
    }
}

impl ExpectClientIdentity {
    fn handle(
        self,
        config: &ServerConfig,
        io: &mut HandshakeIo,
        msg: &[u8],
    ) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::CLIENT_IDENTITY)?;
        let ClientIdentity { username } = ClientIdentity::decode(msg)?;
        let registered = config.directory.lookup(&username);
        io.transcript.add(msg);
        Ok(Step::Next(State::Verify(ExpectClientVerify {
            keys: self.keys,
            username,
            registered,
        })))
    }
}

impl ExpectClientVerify {
    fn handle(
        self,
        config: &ServerConfig,
        io: &mut HandshakeIo,
        msg: &[u8],
    ) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::CLIENT_VERIFY)?;
        let ClientVerify(Verify { signature }) = ClientVerify::decode(msg)?;
        let signed = signed_content(CLIENT_SIGNATURE_CONTEXT, &io.transcript.current());
        let Some(key) = self.registered else {
            // Spend the same verification as for a registered user, so the timing of the
            // failure does not reveal whether the name exists.
            let _ = config.unknown_user_key.verify(&signed, &signature);
            return Err(HandshakeError::UnknownUser(self.username));
        };
        key.verify(&signed, &signature)
            .map_err(|_| HandshakeError::BadClientSignature)?;
        io.transcript.add(msg);
        Ok(Step::Next(State::Finished(ExpectClientFinished {
            keys: self.keys,
            username: self.username,
            key,
        })))
    }
}

impl ExpectClientFinished {
    fn handle(self, io: &mut HandshakeIo, msg: &[u8]) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::CLIENT_FINISHED)?;
        let ClientFinished(Finished { mac }) = ClientFinished::decode(msg)?;
        if !verify_finished(&self.keys.client_finished, &io.transcript.current(), &mac) {
            return Err(HandshakeError::BadClientFinished);
        }
        io.transcript.add(msg);
        let secrets = self.keys.into_session_secrets(&io.transcript.current());
        Ok(Step::Authenticated {
            username: self.username,
            key: self.key,
            keys: SessionKeys::new(Role::Server, secrets),
        })
    }
}

/// A client that completed the handshake: its identity is proven, but it is not yet online.
/// The application applies its policy (a second login with the same identity, capacity),
/// then calls [`accept`](Self::accept) or [`reject`](Self::reject).
pub struct AuthenticatedClient {
    username: Username,
    key: PublicKey,
    keys: SessionKeys,
    deframer: Deframer,
    out: Vec<u8>,
}

impl fmt::Debug for AuthenticatedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatedClient")
            .field("username", &self.username)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl AuthenticatedClient {
    /// The username the client proved.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The registered key it proved it holds.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// Opens the session: queues the Welcome carrying `session_id` as the first record of
    /// the standard channel.
    pub fn accept(mut self, session_id: u64) -> Session {
        let welcome = Welcome {
            session_id,
            username: self.username.clone(),
        };
        // A Welcome is a few dozen bytes, far below the record limit, and its username is
        // valid by construction: neither encoding nor sealing can fail.
        if let Ok(welcome) = welcome.to_bytes() {
            let _ = self.keys.tx_standard.seal_data(&welcome, &mut self.out);
        }
        let peer = PeerIdentity::Client {
            username: self.username,
            key: self.key,
        };
        Session::new(
            Role::Server,
            session_id,
            peer,
            self.keys,
            self.deframer,
            self.out,
        )
    }

    /// Refuses the session with an authenticated close; returns the last bytes to write
    /// before closing the connection.
    pub fn reject(mut self, reason: CloseReason) -> Vec<u8> {
        let _ = self.keys.tx_standard.seal_close(&[reason.0], &mut self.out);
        core::mem::take(&mut self.out)
    }
}
