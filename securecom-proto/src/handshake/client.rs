//! The client side of the handshake: one struct per expected message.

use alloc::sync::Arc;
use core::fmt;

use rand_core::CryptoRng;

use crate::codec::{Codec, Deframer};
use crate::crypto::{EphemeralKeyPair, finished_mac, verify_finished};
use crate::identity::PublicKey;
use crate::session::{CloseReason, PeerIdentity, Role, Session, SessionKeys};
use crate::time::{Instant, UnixTime};

use super::io::{
    Expect, HandshakeIo, Received, check_deadline, expect_message, message, read_frame,
};
use super::messages::{
    ClientFinished, ClientHello, ClientIdentity, ClientVerify, Finished, HandshakeType, Hello,
    RANDOM_LEN, ServerCertificate, ServerFinished, ServerHello, ServerVerify, Verify, Welcome,
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
///         ClientProgress::Established { session, consumed: _ } => break session,
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
    },
}

#[allow(
    clippy::large_enum_variant,
    reason = "moved a handful of times per handshake; boxing would only add allocations"
)]
enum State {
    ServerHello(ExpectServerHello),
    ServerCertificate(ExpectServerCertificate),
    ServerVerify(ExpectServerVerify),
    ServerFinished(ExpectServerFinished),
    Welcome(ExpectWelcome),
}

struct ExpectServerHello {
    ephemeral: EphemeralKeyPair,
}

struct ExpectServerCertificate {
    keys: HandshakeKeys,
}

struct ExpectServerVerify {
    keys: HandshakeKeys,
    server_key: PublicKey,
}

struct ExpectServerFinished {
    keys: HandshakeKeys,
    server_key: PublicKey,
}

struct ExpectWelcome {
    keys: SessionKeys,
    server_key: PublicKey,
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
    },
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::ServerHello(_) => "ExpectServerHello",
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
                    } => {
                        let session = Session::new(
                            Role::Client,
                            session_id,
                            peer,
                            keys,
                            core::mem::take(&mut self.deframer),
                            core::mem::take(&mut self.io.out),
                        );
                        return Ok(ClientProgress::Established { session, consumed });
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
        Ok(Step::Next(State::ServerCertificate(
            ExpectServerCertificate { keys },
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
        let server_key =
            ctx.config
                .verifier
                .verify_server(&chain, &ctx.config.server_name, ctx.wall_clock)?;
        io.transcript.add(msg);
        Ok(Step::Next(State::ServerVerify(ExpectServerVerify {
            keys: self.keys,
            server_key,
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
        })
    }
}
