//! The client side of the handshake: one struct per expected message.

use alloc::sync::Arc;
use core::fmt;

use rand_core::CryptoRng;

use crate::codec::{Codec, Deframer};
use crate::crypto::{EphemeralKeyPair, finished_mac, verify_finished};
use crate::identity::PublicKey;
use crate::pki::{FlightCrlError, NewerCrl};
use crate::session::{CloseReason, PeerIdentity, Role, Session, SessionKeys};
use crate::time::{Instant, UnixTime};

use super::io::{
    Expect, HandshakeIo, Received, check_deadline, expect_message, message, read_frame,
};
use super::messages::{
    ClientFinished, ClientHello, ClientIdentity, ClientVerify, Finished, HandshakeType, Hello,
    RANDOM_LEN, ServerCertificate, ServerCrl, ServerFinished, ServerHello, ServerVerify, Verify,
    Welcome,
};
use super::schedule::HandshakeKeys;
use super::{
    CLIENT_SIGNATURE_CONTEXT, ClientConfig, HandshakeError, PROTOCOL_VERSION,
    SERVER_SIGNATURE_CONTEXT, signed_content,
};

/// The client's handshake in progress. See the [module documentation](super) for the
/// driving contract.
///
/// ```no_run
/// # use securecom_proto::handshake::{ClientConfig, ClientHandshake, ClientProgress};
/// # use securecom_proto::time::{Instant, UnixTime};
/// # fn io(_: &[u8]) -> Vec<u8> { Vec::new() }
/// # fn wall_clock() -> UnixTime { UnixTime::from_secs(1_800_000_000) }
/// # fn run(config: std::sync::Arc<ClientConfig>) -> Result<(), Box<dyn std::error::Error>> {
/// let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
/// // The wall-clock time, for the server certificate's validity, is read by the driver.
/// let mut hs = ClientHandshake::start(config, &mut rng, Instant::ZERO, wall_clock());
/// let session = loop {
///     let received = io(hs.output()); // write the output, read the reply
///     hs.consume_output(hs.output().len());
///     match hs.handle_input(Instant::ZERO, &received)? {
///         ClientProgress::Continue(next) => hs = next,
///         ClientProgress::Established { session, newer_crl, .. } => {
///             if let Some(crl) = newer_crl {
///                 println!("the server delivered CRL number {}: store it", crl.number());
///             }
///             break session;
///         }
///     }
/// };
/// println!("logged in, session {}", session.session_id());
/// # Ok(()) }
/// ```
pub struct ClientHandshake {
    config: Arc<ClientConfig>,
    deframer: Deframer,
    pub(super) io: HandshakeIo,
    deadline: Instant,
    wall_clock: UnixTime,
    state: State,
}

/// The result of feeding input to a [`ClientHandshake`].
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
pub enum ClientProgress {
    /// More messages are needed; all the input was consumed.
    Continue(ClientHandshake),
    /// The server authenticated us and opened the session.
    Established {
        /// The session, which already holds any output still to be written.
        session: Session,
        /// Bytes of the input taken; the rest belongs to the session
        /// ([`Session::push_input`]).
        consumed: usize,
        /// A CRL of the trust anchor, newer than the one the configuration's verifier
        /// holds, that the server carried in its flight: this handshake already checked
        /// the server's chain against it. Reported only now that the handshake is
        /// complete; the application stores it and builds its next verifier with it
        /// ([`ServerCertVerifier::with_newer_crl`](crate::pki::ServerCertVerifier::with_newer_crl)).
        newer_crl: Option<NewerCrl>,
    },
}

#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
enum State {
    ServerHello(ExpectServerHello),
    ServerCrl(ExpectServerCrl),
    ServerCertificate(ExpectServerCertificate),
    ServerVerify(ExpectServerVerify),
    ServerFinished(ExpectServerFinished),
    Welcome(ExpectWelcome),
}

struct ExpectServerHello {
    ephemeral: EphemeralKeyPair,
}

struct ExpectServerCrl {
    keys: HandshakeKeys,
}

struct ExpectServerCertificate {
    keys: HandshakeKeys,
    delivered: Delivered,
}

struct ExpectServerVerify {
    keys: HandshakeKeys,
    server_key: PublicKey,
    delivered: Delivered,
}

struct ExpectServerFinished {
    keys: HandshakeKeys,
    server_key: PublicKey,
    delivered: Delivered,
}

#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
struct ExpectWelcome {
    keys: SessionKeys,
    server_key: PublicKey,
    newer_crl: Option<NewerCrl>,
}

/// What the CRL in the server's flight came to, carried until the server has proved
/// itself: a refusal is reported only then, so that it names a server that really sent
/// that CRL, and an adopted CRL only once the whole handshake succeeded.
enum Delivered {
    /// No CRL, or one ignored (not newer, not current, revocation not checked).
    Nothing,
    /// Newer than the held CRL, and used for this handshake's chain check.
    Newer(NewerCrl),
    /// Refused: the handshake fails once the server is authenticated.
    Refused(FlightCrlError),
}

#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
enum Step {
    Next(State),
    Welcomed {
        session_id: u64,
        peer: PeerIdentity,
        keys: SessionKeys,
        newer_crl: Option<NewerCrl>,
    },
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::ServerHello(_) => "ExpectServerHello",
            State::ServerCrl(_) => "ExpectServerCrl",
            State::ServerCertificate(_) => "ExpectServerCertificate",
            State::ServerVerify(_) => "ExpectServerVerify",
            State::ServerFinished(_) => "ExpectServerFinished",
            State::Welcome(_) => "ExpectWelcome",
        };
        f.debug_struct("ClientHandshake")
            .field("state", &state)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl ClientHandshake {
    /// Fuzzing only: a copy once the handshake has sent its final flight and waits for
    /// the server's Welcome, so that a fuzz target can start from a login about to
    /// complete; `None` before.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn try_clone(&self) -> Option<ClientHandshake> {
        let State::Welcome(welcome) = &self.state else {
            return None;
        };
        Some(ClientHandshake {
            config: Arc::clone(&self.config),
            deframer: self.deframer.clone(),
            io: self.io.clone(),
            deadline: self.deadline,
            wall_clock: self.wall_clock,
            state: State::Welcome(welcome.clone()),
        })
    }

    /// Starts a handshake: draws the random and ephemeral key from `rng` and queues the
    /// ClientHello. `now` starts the handshake timer; `wall_clock` is the time the server's
    /// certificate and CRL must be valid at.
    pub fn start<R: CryptoRng + ?Sized>(
        config: Arc<ClientConfig>,
        rng: &mut R,
        now: Instant,
        wall_clock: UnixTime,
    ) -> Self {
        let mut random = [0u8; RANDOM_LEN];
        rng.fill_bytes(&mut random);
        let ephemeral = EphemeralKeyPair::generate(rng);
        let hello = ClientHello(Hello {
            version: PROTOCOL_VERSION,
            random,
            key_share: *ephemeral.public(),
        });
        let mut io = HandshakeIo::default();
        // A hello is far below the frame limit, so this cannot fail.
        let _ = io.send_plaintext(&hello);
        let deadline = now + config.handshake_timeout;
        ClientHandshake {
            config,
            deframer: Deframer::new(),
            io,
            deadline,
            wall_clock,
            state: State::ServerHello(ExpectServerHello { ephemeral }),
        }
    }

    /// Bytes waiting to be written to the server.
    pub fn output(&self) -> &[u8] {
        &self.io.out
    }

    /// Marks the first `n` bytes of [`ClientHandshake::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        self.io.consume_output(n);
    }

    /// When [`ClientHandshake::handle_timeout`] must be called: the handshake's deadline,
    /// fixed at the start. (Always `Some`: the `Option` is the vocabulary every machine of
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

    /// Processes bytes received from the server.
    pub fn handle_input(
        mut self,
        now: Instant,
        data: &[u8],
    ) -> Result<ClientProgress, HandshakeError> {
        check_deadline(now, self.deadline)?;
        let mut consumed = 0;
        loop {
            consumed += self.deframer.push(data.get(consumed..).unwrap_or(&[]));
            while let Some(frame) = self.deframer.next_frame()? {
                let expect = match &mut self.state {
                    State::ServerHello(_) => Expect::Plaintext,
                    State::ServerCrl(s) => Expect::Sealed(&mut s.keys.rx),
                    State::ServerCertificate(s) => Expect::Sealed(&mut s.keys.rx),
                    State::ServerVerify(s) => Expect::Sealed(&mut s.keys.rx),
                    State::ServerFinished(s) => Expect::Sealed(&mut s.keys.rx),
                    State::Welcome(s) => Expect::Sealed(&mut s.keys.rx_standard),
                };
                let received = read_frame(frame, expect)?;
                let ctx = Context {
                    config: &self.config,
                    wall_clock: self.wall_clock,
                };
                let step = match self.state {
                    State::ServerHello(s) => s.handle(&mut self.io, message(received)?),
                    State::ServerCrl(s) => s.handle(&ctx, &mut self.io, message(received)?),
                    State::ServerCertificate(s) => s.handle(&ctx, &mut self.io, message(received)?),
                    State::ServerVerify(s) => s.handle(&mut self.io, message(received)?),
                    State::ServerFinished(s) => s.handle(&ctx, &mut self.io, message(received)?),
                    State::Welcome(s) => s.handle(&ctx, received),
                }?;
                match step {
                    Step::Next(state) => self.state = state,
                    Step::Welcomed {
                        session_id,
                        peer,
                        keys,
                        newer_crl,
                    } => {
                        let session = Session::new(
                            Role::Client,
                            session_id,
                            peer,
                            keys,
                            core::mem::take(&mut self.deframer),
                            core::mem::take(&mut self.io.out),
                        );
                        return Ok(ClientProgress::Established {
                            session,
                            consumed,
                            newer_crl,
                        });
                    }
                }
            }
            if consumed >= data.len() {
                return Ok(ClientProgress::Continue(self));
            }
        }
    }
}

/// What the states may read besides their own data.
struct Context<'a> {
    config: &'a ClientConfig,
    wall_clock: UnixTime,
}

impl ExpectServerHello {
    fn handle(self, io: &mut HandshakeIo, msg: &[u8]) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::SERVER_HELLO)?;
        let ServerHello(hello) = ServerHello::decode(msg)?;
        if hello.version != PROTOCOL_VERSION {
            return Err(HandshakeError::UnsupportedVersion {
                ours: PROTOCOL_VERSION,
                theirs: hello.version,
            });
        }
        io.transcript.add(msg);
        let th_hello = io.transcript.current();
        let keys =
            HandshakeKeys::derive(Role::Client, self.ephemeral, &hello.key_share, &th_hello)?;
        Ok(Step::Next(State::ServerCrl(ExpectServerCrl { keys })))
    }
}

impl ExpectServerCrl {
    fn handle(
        self,
        ctx: &Context<'_>,
        io: &mut HandshakeIo,
        msg: &[u8],
    ) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::SERVER_CRL)?;
        let ServerCrl { crl } = ServerCrl::decode(msg)?;
        let delivered = match crl {
            None => Delivered::Nothing,
            Some(der) => match ctx.config.verifier.check_flight_crl(&der, ctx.wall_clock) {
                Ok(newer) => Delivered::Newer(newer),
                Err(refused) if refused.fails_handshake() => Delivered::Refused(refused),
                // Genuine but of no use now: the held CRL is checked as before.
                Err(_) => Delivered::Nothing,
            },
        };
        io.transcript.add(msg);
        Ok(Step::Next(State::ServerCertificate(
            ExpectServerCertificate {
                keys: self.keys,
                delivered,
            },
        )))
    }
}

impl ExpectServerCertificate {
    fn handle(
        self,
        ctx: &Context<'_>,
        io: &mut HandshakeIo,
        msg: &[u8],
    ) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::SERVER_CERTIFICATE)?;
        let certificate = ServerCertificate::decode(msg)?;
        let chain: alloc::vec::Vec<&[u8]> =
            certificate.chain.iter().map(|c| c.as_slice()).collect();
        let newer = match &self.delivered {
            Delivered::Newer(crl) => Some(crl),
            Delivered::Nothing | Delivered::Refused(_) => None,
        };
        // A newer CRL from the flight counts already: a server it revokes is refused,
        // even the one that carried it.
        let server_key = ctx.config.verifier.verify_server_with(
            &chain,
            &ctx.config.server_name,
            ctx.wall_clock,
            newer,
        )?;
        io.transcript.add(msg);
        Ok(Step::Next(State::ServerVerify(ExpectServerVerify {
            keys: self.keys,
            server_key,
            delivered: self.delivered,
        })))
    }
}

impl ExpectServerVerify {
    fn handle(self, io: &mut HandshakeIo, msg: &[u8]) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::SERVER_VERIFY)?;
        let ServerVerify(Verify { signature }) = ServerVerify::decode(msg)?;
        let signed = signed_content(SERVER_SIGNATURE_CONTEXT, &io.transcript.current());
        self.server_key
            .verify(&signed, &signature)
            .map_err(|_| HandshakeError::BadServerSignature)?;
        io.transcript.add(msg);
        Ok(Step::Next(State::ServerFinished(ExpectServerFinished {
            keys: self.keys,
            server_key: self.server_key,
            delivered: self.delivered,
        })))
    }
}

impl ExpectServerFinished {
    fn handle(
        mut self,
        ctx: &Context<'_>,
        io: &mut HandshakeIo,
        msg: &[u8],
    ) -> Result<Step, HandshakeError> {
        expect_message(msg, HandshakeType::SERVER_FINISHED)?;
        let ServerFinished(Finished { mac }) = ServerFinished::decode(msg)?;
        if !verify_finished(&self.keys.server_finished, &io.transcript.current(), &mac) {
            return Err(HandshakeError::BadServerFinished);
        }
        io.transcript.add(msg);
        // The server is authenticated: a CRL it carried that cannot be the anchor's
        // current list is its fault, and ends the handshake before our identity leaves.
        let newer_crl = match self.delivered {
            Delivered::Refused(refused) => return Err(HandshakeError::FlightCrl(refused)),
            Delivered::Newer(crl) => Some(crl),
            Delivered::Nothing => None,
        };

        // The server is authenticated: only now does our identity leave, encrypted.
        let identity = ClientIdentity {
            username: ctx.config.username.clone(),
        };
        io.send_sealed(&mut self.keys.tx, &identity)?;
        let signed = signed_content(CLIENT_SIGNATURE_CONTEXT, &io.transcript.current());
        let verify = ClientVerify(Verify {
            signature: ctx.config.identity.sign(&signed),
        });
        io.send_sealed(&mut self.keys.tx, &verify)?;
        let finished = ClientFinished(Finished {
            mac: finished_mac(&self.keys.client_finished, &io.transcript.current()),
        });
        io.send_sealed(&mut self.keys.tx, &finished)?;

        let secrets = self.keys.into_session_secrets(&io.transcript.current());
        Ok(Step::Next(State::Welcome(ExpectWelcome {
            keys: SessionKeys::new(Role::Client, secrets),
            server_key: self.server_key,
            newer_crl,
        })))
    }
}

impl ExpectWelcome {
    fn handle(self, ctx: &Context<'_>, received: Received<'_>) -> Result<Step, HandshakeError> {
        let msg = match received {
            Received::Message(msg) => msg,
            Received::Close(reason) => {
                let reason = reason.first().copied().unwrap_or(CloseReason::NORMAL.0);
                return Err(HandshakeError::Rejected(CloseReason(reason)));
            }
        };
        expect_message(msg, HandshakeType::WELCOME)?;
        let welcome = Welcome::decode(msg)?;
        if welcome.username != ctx.config.username {
            return Err(HandshakeError::UsernameMismatch);
        }
        let peer = PeerIdentity::Server {
            name: ctx.config.server_name.clone(),
            key: self.server_key,
        };
        Ok(Step::Welcomed {
            session_id: welcome.session_id,
            peer,
            keys: self.keys,
            newer_crl: self.newer_crl,
        })
    }
}
