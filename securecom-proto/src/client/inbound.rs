//! What the client does with the server's responses and notices.

use alloc::vec::Vec;

use super::CallbackConnection;
use super::{
    AutoRefusal, ChatClient, ChatEndReason, ClientError, ClientEvent, CommandKind, OnlineUser,
    State,
};
use crate::chat::{KeyStatus, OpenedChat};
use crate::codec::{Codec, ContentType, Deframer};
use crate::command::{GoneReason, Notice, RequestBody, Response, ResponseBody};
use crate::identity::{PublicKey, Username};
use crate::session::{CallbackHello, Channel, Incoming};
use crate::time::Instant;

enum Inbound {
    Standard(Vec<u8>),
    Request(Vec<u8>),
    Closed(crate::session::CloseReason),
}

impl ChatClient {
    /// Processes bytes from the server. Session and protocol errors are fatal.
    pub fn handle_input(&mut self, now: Instant, mut data: &[u8]) -> Result<(), ClientError> {
        let mut inbox = Vec::new();
        loop {
            let taken = self.session.push_input(data);
            data = data.get(taken..).unwrap_or(&[]);
            loop {
                let record = self.session.next_record();
                match record {
                    Ok(None) => break,
                    Ok(Some(Incoming::Data { channel, payload })) => inbox.push(match channel {
                        Channel::Standard => Inbound::Standard(payload.to_vec()),
                        Channel::Request => Inbound::Request(payload.to_vec()),
                    }),
                    Ok(Some(Incoming::Closed(reason))) => {
                        inbox.push(Inbound::Closed(reason));
                        break;
                    }
                    Err(e) => return Err(self.end(e.into())),
                }
            }
            for item in inbox.drain(..) {
                match item {
                    Inbound::Standard(bytes) => self.on_response(now, &bytes)?,
                    Inbound::Request(bytes) => self.on_notice(now, &bytes)?,
                    Inbound::Closed(reason) => {
                        self.server_closed(reason);
                        return Ok(());
                    }
                }
            }
            if data.is_empty() {
                return Ok(());
            }
        }
    }

    /// Processes bytes from a callback connection (see [`ChatClient::register_callback`]),
    /// one [`CallbackConnection`] per accepted socket. A connection must first present the
    /// server's hello with the right token; [`ClientError::CallbackRefused`] means: close
    /// that connection (the session goes on). Only the one connection that presented the
    /// token may deliver request-channel records.
    pub fn handle_callback_input(
        &mut self,
        now: Instant,
        connection: &mut CallbackConnection,
        mut data: &[u8],
    ) -> Result<(), ClientError> {
        if connection.attached {
            return self.callback_records(now, data);
        }
        let taken = connection.deframer.push(data);
        data = data.get(taken..).unwrap_or(&[]);
        let hello = match connection.deframer.next_frame() {
            Ok(Some(frame)) if frame.content_type == ContentType::HANDSHAKE => {
                CallbackHello::decode(frame.payload).map_err(|_| ClientError::CallbackRefused)?
            }
            Ok(None) => return Ok(()),
            _ => return Err(ClientError::CallbackRefused),
        };
        let in_time = self.callback_deadline.is_some_and(|d| now < d);
        if !in_time || self.session.callback_attached() {
            return Err(ClientError::CallbackRefused);
        }
        self.session
            .accept_callback_hello(&hello)
            .map_err(|_| ClientError::CallbackRefused)?;
        connection.attached = true;
        self.callback_deadline = None;
        self.events.push_back(ClientEvent::CallbackAttached);
        // Records that came in the same read as the hello.
        let mut leftover = Vec::new();
        while let Ok(Some(frame)) = connection.deframer.next_frame() {
            leftover.extend_from_slice(&frame.header);
            leftover.extend_from_slice(frame.payload);
        }
        leftover.extend_from_slice(connection.deframer.pending());
        leftover.extend_from_slice(data);
        connection.deframer = Deframer::new();
        self.callback_records(now, &leftover)
    }

    fn callback_records(&mut self, now: Instant, mut data: &[u8]) -> Result<(), ClientError> {
        let mut inbox = Vec::new();
        loop {
            let taken = self.session.push_callback_input(data);
            data = data.get(taken..).unwrap_or(&[]);
            loop {
                match self.session.next_callback_record() {
                    Ok(None) => break,
                    Ok(Some(Incoming::Data { payload, .. })) => inbox.push(payload.to_vec()),
                    Ok(Some(Incoming::Closed(_))) => break,
                    Err(e) => return Err(self.end(e.into())),
                }
            }
            for notice in inbox.drain(..) {
                self.on_notice(now, &notice)?;
            }
            if data.is_empty() {
                return Ok(());
            }
        }
    }

    fn on_response(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ClientError> {
        let Response { id, body } = Response::decode(bytes).map_err(|_| self.violation())?;
        let kind = match self.pending.remove(&id) {
            Some(kind) => kind,
            // Errors about chat data carry the id of a message we did not track.
            None if matches!(body, ResponseBody::Error(_)) => CommandKind::ChatData,
            None => return Err(self.violation()),
        };
        match (kind, body) {
            (_, ResponseBody::Error(error)) => self.command_failed(now, kind, error)?,
            (CommandKind::ListUsers, ResponseBody::Users { users, truncated }) => {
                let users = users
                    .into_iter()
                    .map(|u| {
                        let status = self.fingerprint_status(&u.username, &u.fingerprint);
                        OnlineUser::new(u.username, u.fingerprint, status)
                    })
                    .collect();
                self.events
                    .push_back(ClientEvent::Users { users, truncated });
            }
            (CommandKind::GetPublicKey, ResponseBody::PublicKey { username, key }) => {
                let key_status = self.key_status(&username, &key);
                self.events.push_back(ClientEvent::PublicKey {
                    user: username,
                    key,
                    key_status,
                });
            }
            (CommandKind::RequestChat, ResponseBody::RequestSent) => {
                if let State::Requesting { to, .. } = &self.state {
                    let to = to.clone();
                    self.events.push_back(ClientEvent::RequestSent { to });
                }
            }
            (CommandKind::Answer, ResponseBody::Answered)
            | (CommandKind::Withdraw, ResponseBody::Withdrawn)
            | (CommandKind::LeaveChat, ResponseBody::Left)
            | (CommandKind::Ping, ResponseBody::Pong)
            | (CommandKind::RegisterCallback, ResponseBody::CallbackRegistered) => {}
            (CommandKind::Exit, ResponseBody::Bye) => {}
            _ => return Err(self.violation()),
        }
        Ok(())
    }

    fn command_failed(
        &mut self,
        now: Instant,
        kind: CommandKind,
        error: crate::command::CommandError,
    ) -> Result<(), ClientError> {
        match kind {
            CommandKind::RequestChat if matches!(self.state, State::Requesting { .. }) => {
                self.state = State::Idle;
            }
            CommandKind::Answer if matches!(self.state, State::Responding(_)) => {
                self.state = State::Idle;
            }
            CommandKind::ChatData => {
                // The relay dropped our chat data (the chat is over at the relay): the
                // end-to-end sequence is broken, so the chat cannot go on.
                if let Some(peer) = self.chat_peer() {
                    self.end_chat(peer, ChatEndReason::PeerGone(GoneReason::DISCONNECTED));
                }
            }
            CommandKind::RegisterCallback => {
                self.session.cancel_callback();
                self.callback_deadline = None;
            }
            _ => {}
        }
        let _ = now;
        self.events.push_back(ClientEvent::CommandFailed {
            command: kind,
            error,
        });
        Ok(())
    }

    fn on_notice(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ClientError> {
        let notice = Notice::decode(bytes).map_err(|_| self.violation())?;
        match notice {
            Notice::IncomingRequest { from, key } => self.incoming_request(now, from, key),
            Notice::RequestWithdrawn { from } => {
                if matches!(&self.state, State::Asked { from: f, .. } if *f == from) {
                    self.state = State::Idle;
                }
                self.events
                    .push_back(ClientEvent::RequestWithdrawn { from });
                Ok(())
            }
            Notice::RequestExpired { peer } => {
                match &self.state {
                    State::Asked { from, .. } if *from == peer => self.state = State::Idle,
                    State::Requesting { to, .. } if *to == peer => self.state = State::Idle,
                    _ => {}
                }
                self.events.push_back(ClientEvent::RequestExpired { peer });
                Ok(())
            }
            Notice::RequestDenied { peer } => {
                if matches!(&self.state, State::Requesting { to, .. } if *to == peer) {
                    self.state = State::Idle;
                }
                self.events.push_back(ClientEvent::RequestDenied { peer });
                Ok(())
            }
            Notice::RequestAccepted { peer, key } => self.request_accepted(now, peer, key),
            Notice::ChatData(payload) => self.chat_data_in(now, &payload),
            Notice::PeerLeft { peer, reason } => {
                if self.chat_peer().as_ref() == Some(&peer) {
                    let reason = match &self.state {
                        State::Chatting(chat) if chat.peer_closed() => ChatEndReason::PeerClosed,
                        _ => ChatEndReason::PeerGone(reason),
                    };
                    self.end_chat(peer, reason);
                }
                Ok(())
            }
        }
    }

    fn incoming_request(
        &mut self,
        now: Instant,
        from: Username,
        key: PublicKey,
    ) -> Result<(), ClientError> {
        if self.blocked.contains(&from) {
            return self.refuse(now, &from, AutoRefusal::Blocked);
        }
        if !matches!(self.state, State::Idle) {
            self.refuse(now, &from, AutoRefusal::Busy)?;
            return Ok(());
        }
        // Only compared: the key is remembered once a chat handshake with it completes.
        match self.key_status(&from, &key) {
            KeyStatus::Changed { previous, verified } => {
                self.report_key_change(&from, key, previous, verified);
                self.refuse(now, &from, AutoRefusal::KeyChanged)
            }
            key_status => {
                self.events.push_back(ClientEvent::IncomingRequest {
                    from: from.clone(),
                    fingerprint: key.fingerprint(),
                    key_status,
                });
                self.state = State::Asked { from, key };
                Ok(())
            }
        }
    }

    /// Denies `from`'s request without asking the user, and says why.
    pub(super) fn refuse(
        &mut self,
        now: Instant,
        from: &Username,
        reason: AutoRefusal,
    ) -> Result<(), ClientError> {
        self.command(
            now,
            CommandKind::Answer,
            RequestBody::Answer {
                from: from.clone(),
                accept: false,
            },
        )?;
        self.events.push_back(ClientEvent::AutoRefused {
            from: from.clone(),
            reason,
        });
        Ok(())
    }

    fn request_accepted(
        &mut self,
        now: Instant,
        peer: Username,
        key: PublicKey,
    ) -> Result<(), ClientError> {
        let state = core::mem::replace(&mut self.state, State::Idle);
        let prepared = match state {
            State::Requesting { to, prepared } if to == peer => prepared,
            other => {
                // An acceptance that crossed our withdrawal: the relay opened a chat we no
                // longer want. Leave it; the peer is told.
                self.state = other;
                return self.command(now, CommandKind::LeaveChat, RequestBody::LeaveChat);
            }
        };
        let key_status = self.key_status(&peer, &key);
        if let KeyStatus::Changed { previous, verified } = key_status {
            self.report_key_change(&peer, key, previous, verified);
            self.end_chat(peer, ChatEndReason::KeyChanged);
            return self.command(now, CommandKind::LeaveChat, RequestBody::LeaveChat);
        }
        self.events.push_back(ClientEvent::RequestAccepted {
            peer: peer.clone(),
            fingerprint: key.fingerprint(),
            key_status,
        });
        let me = (&self.config.username, self.config.identity.public_key());
        let (initiator, hello) = prepared.start(me, (&peer, key));
        self.state = State::Initiating(initiator);
        self.chat_data(now, hello)
    }

    fn chat_data_in(&mut self, now: Instant, payload: &[u8]) -> Result<(), ClientError> {
        match core::mem::replace(&mut self.state, State::Idle) {
            State::Responding(responder) => {
                let peer = responder.peer().clone();
                match responder.handle_hello(&self.config.identity, payload) {
                    Ok((next, reply)) => {
                        self.state = State::Confirming(next);
                        self.chat_data(now, reply)
                    }
                    Err(e) => self.security_failure(now, peer, e),
                }
            }
            State::Initiating(initiator) => {
                let peer = initiator.peer().clone();
                match initiator.handle_reply(&self.config.identity, payload) {
                    Ok((chat, confirm)) => {
                        if let Err(e) = self.chat_data(now, confirm) {
                            self.state = State::Chatting(chat);
                            return Err(e);
                        }
                        self.chat_established(chat);
                        Ok(())
                    }
                    Err(e) => self.security_failure(now, peer, e),
                }
            }
            State::Confirming(confirming) => {
                let peer = confirming.peer().clone();
                match confirming.handle_confirm(payload) {
                    Ok(chat) => {
                        self.chat_established(chat);
                        Ok(())
                    }
                    Err(e) => self.security_failure(now, peer, e),
                }
            }
            State::Chatting(mut chat) => match chat.open(payload) {
                Ok(OpenedChat::Text(text)) => {
                    let from = chat.peer().clone();
                    self.state = State::Chatting(chat);
                    self.events.push_back(ClientEvent::Message { from, text });
                    Ok(())
                }
                Ok(OpenedChat::Closed) => {
                    // Keep the session until the relay confirms the peer left, so the end
                    // is reported as a clean close.
                    self.state = State::Chatting(chat);
                    Ok(())
                }
                Err(e) => {
                    let peer = chat.peer().clone();
                    self.security_failure(now, peer, e)
                }
            },
            other => {
                // Chat data with no chat: a late message after we left. Ignore it.
                self.state = other;
                Ok(())
            }
        }
    }

    fn security_failure(
        &mut self,
        now: Instant,
        peer: Username,
        e: crate::chat::ChatError,
    ) -> Result<(), ClientError> {
        self.state = State::Idle;
        self.events.push_back(ClientEvent::ChatEnded {
            peer,
            reason: ChatEndReason::Security(e),
        });
        self.command(now, CommandKind::LeaveChat, RequestBody::LeaveChat)
    }

    fn violation(&mut self) -> ClientError {
        self.end(ClientError::ProtocolViolation)
    }
}
