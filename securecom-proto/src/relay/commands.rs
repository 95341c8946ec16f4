//! Executing one client command.

use alloc::vec::Vec;

use super::{ConnectionId, Deliver, OfflineReason, RelayEvent, Route};
use crate::codec::Codec;
use crate::command::{
    CommandError, GoneReason, MAX_LISTED_USERS, Notice, Request, RequestBody, RequestId, Response,
    ResponseBody, UserEntry,
};
use crate::identity::Username;
use crate::session::{Channel, CloseReason};
use crate::time::Instant;

impl super::Relay {
    pub(super) fn execute<R: Route + ?Sized>(
        &mut self,
        id: ConnectionId,
        now: Instant,
        request: Request,
        route: &mut R,
    ) {
        let Some(me) = self.online_by_id(id).map(|o| o.user.clone()) else {
            return;
        };
        let Request { id: rid, body } = request;
        let answer = match body {
            RequestBody::ListUsers => Ok(self.list_users()),
            RequestBody::GetPublicKey(user) => match self.server.directory.lookup(&user) {
                Some(key) => Ok(ResponseBody::PublicKey {
                    username: user,
                    key,
                }),
                None => Err(CommandError::UNKNOWN_USER),
            },
            RequestBody::RequestChat(to) => self.request_chat(&me, &to, now, route),
            RequestBody::Answer { from, accept } => self.answer(&me, &from, accept, route),
            RequestBody::Withdraw => match self.requests.remove_outgoing(&me) {
                Some(to) => {
                    self.notify(&to, &Notice::RequestWithdrawn { from: me.clone() });
                    Ok(ResponseBody::Withdrawn)
                }
                None => Err(CommandError::NO_SUCH_REQUEST),
            },
            RequestBody::ChatData(payload) => match self.chat_peer(&me).cloned() {
                Some(peer) => {
                    route.chat_data(&me, &peer, payload, Deliver(self));
                    return;
                }
                None => Err(CommandError::NOT_IN_CHAT),
            },
            RequestBody::LeaveChat => match self.chat_peer(&me).cloned() {
                Some(peer) => {
                    self.end_chat(&me, &peer);
                    Ok(ResponseBody::Left)
                }
                None => Err(CommandError::NOT_IN_CHAT),
            },
            RequestBody::Exit => {
                self.respond(id, rid, ResponseBody::Bye);
                self.close_online(id, CloseReason::NORMAL, OfflineReason::Exit);
                return;
            }
            RequestBody::Ping => Ok(ResponseBody::Pong),
            RequestBody::RegisterCallback { port, nonce } => {
                self.register_callback(id, port, &nonce)
            }
        };
        let body = answer.unwrap_or_else(ResponseBody::Error);
        self.respond(id, rid, body);
    }

    fn respond(&mut self, id: ConnectionId, rid: RequestId, body: ResponseBody) {
        // The user list is cut at MAX_LISTED_USERS and names are valid by construction:
        // the encoder cannot refuse. Were it to, the response is not sent.
        if let Ok(response) = (Response { id: rid, body }).to_bytes() {
            self.send(id, Channel::Standard, &response);
        }
    }

    fn list_users(&self) -> ResponseBody {
        let mut users = Vec::new();
        for (user, id) in self.online.iter().take(MAX_LISTED_USERS) {
            if let Some(super::ConnState::Online(o)) = self.connections.get(id).map(|c| &c.state) {
                users.push(UserEntry {
                    username: user.clone(),
                    fingerprint: o.key.fingerprint(),
                });
            }
        }
        ResponseBody::Users {
            users,
            truncated: self.online.len() > MAX_LISTED_USERS,
        }
    }

    fn request_chat<R: Route + ?Sized>(
        &mut self,
        me: &Username,
        to: &Username,
        now: Instant,
        route: &mut R,
    ) -> Result<ResponseBody, CommandError> {
        if me == to {
            return Err(CommandError::SELF_REQUEST);
        }
        if self.chat_peer(me).is_some() {
            return Err(CommandError::ALREADY_CHATTING);
        }
        if self.requests.outgoing_of(me).is_some() {
            return Err(CommandError::REQUEST_PENDING);
        }
        if self.server.directory.lookup(to).is_none() {
            return Err(CommandError::UNKNOWN_USER);
        }
        if !self.online.contains_key(to) {
            return Err(CommandError::OFFLINE);
        }
        if self.chat_peer(to).is_some() {
            return Err(CommandError::BUSY);
        }
        if self.requests.contains(me, to) {
            // They already asked us: answer their request instead.
            return Err(CommandError::REQUEST_PENDING);
        }
        if self.requests.incoming_count(to) >= self.config.max_pending_requests_per_user {
            return Err(CommandError::LIMIT_REACHED);
        }
        let Some(my_key) = self.online_mut(me).map(|o| o.key) else {
            return Err(CommandError::OFFLINE);
        };
        let my_key = route.key_for(me, my_key);
        let expires = now + self.config.request_timeout;
        self.requests.insert(me, to, expires);
        self.note_deadline(expires);
        self.notify(
            to,
            &Notice::IncomingRequest {
                from: me.clone(),
                key: my_key,
            },
        );
        Ok(ResponseBody::RequestSent)
    }

    fn answer<R: Route + ?Sized>(
        &mut self,
        me: &Username,
        from: &Username,
        accept: bool,
        route: &mut R,
    ) -> Result<ResponseBody, CommandError> {
        if !self.requests.remove(me, from) {
            return Err(CommandError::NO_SUCH_REQUEST);
        }
        if !accept {
            self.notify(from, &Notice::RequestDenied { peer: me.clone() });
            return Ok(ResponseBody::Answered);
        }
        if self.chat_peer(me).is_some() {
            self.notify(from, &Notice::RequestDenied { peer: me.clone() });
            return Err(CommandError::ALREADY_CHATTING);
        }
        let Some(my_key) = self.online_mut(me).map(|o| o.key) else {
            return Err(CommandError::OFFLINE);
        };
        let my_key = route.key_for(me, my_key);
        if self.online_mut(from).is_none() || self.chat_peer(from).is_some() {
            return Err(CommandError::OFFLINE);
        }
        // Both enter the chat: their other requests are settled first.
        self.settle_requests_of(me);
        self.settle_requests_of(from);
        if let Some(o) = self.online_mut(me) {
            o.chat = Some(from.clone());
        }
        if let Some(o) = self.online_mut(from) {
            o.chat = Some(me.clone());
        }
        self.notify(
            from,
            &Notice::RequestAccepted {
                peer: me.clone(),
                key: my_key,
            },
        );
        self.events.push_back(RelayEvent::ChatStarted {
            initiator: from.clone(),
            responder: me.clone(),
        });
        Ok(ResponseBody::Answered)
    }

    /// Ends the chat between `me` and `peer`, telling the peer.
    fn end_chat(&mut self, me: &Username, peer: &Username) {
        self.end_chat_of(me);
        self.end_chat_of(peer);
        self.notify(
            peer,
            &Notice::PeerLeft {
                peer: me.clone(),
                reason: GoneReason::LEFT,
            },
        );
        self.events.push_back(RelayEvent::ChatEnded {
            a: me.clone(),
            b: peer.clone(),
        });
    }

    fn register_callback(
        &mut self,
        id: ConnectionId,
        port: u16,
        nonce: &[u8; 16],
    ) -> Result<ResponseBody, CommandError> {
        if !self.config.allow_callback {
            return Err(CommandError::NOT_SUPPORTED);
        }
        let Some(online) = self.online_by_id(id) else {
            return Err(CommandError::OFFLINE);
        };
        // One callback connection per session: the server opens outbound connections only
        // as often as sessions are authenticated.
        if online.session.has_callback() {
            return Err(CommandError::REQUEST_PENDING);
        }
        let hello = online.session.attach_callback(nonce);
        self.events.push_back(RelayEvent::CallbackRequested {
            connection: id,
            port,
            hello,
        });
        Ok(ResponseBody::CallbackRegistered)
    }
}
