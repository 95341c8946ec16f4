//! Executing one client command.

use alloc::vec::Vec;

use super::{ConnectionId, Deliver, OfflineReason, RelayEvent, Route};
use crate::cluster::{BusBody, NodeId};
use crate::codec::Codec;
use crate::command::{
    CommandError, GoneReason, MAX_LISTED_USERS, Notice, Request, RequestBody, RequestId, Response,
    ResponseBody, UserEntry,
};
use crate::identity::Username;
use crate::session::{Channel, CloseReason};
use crate::time::Instant;

impl super::Relay {
    /// Tests only: the relay itself asks `to` in the name of the user on connection
    /// `from`, with that user's genuine key, as a malicious relay can (the user asked
    /// nothing and gets no response).
    #[cfg(test)]
    pub(crate) fn forge_request(&mut self, from: ConnectionId, to: &Username, now: Instant) {
        let Some(me) = self.online_by_id(from).map(|o| o.user.clone()) else {
            return;
        };
        let _ = self.request_chat(
            &me,
            to,
            now,
            (from, RequestId::MAX),
            &mut super::route::Honest,
        );
    }

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
            RequestBody::ListUsers => Ok(self.list_users(route)),
            RequestBody::GetPublicKey(user) => match self.server.directory.lookup(&user) {
                Some(key) => Ok(ResponseBody::PublicKey {
                    key: route.key_for(&user, key),
                    username: user,
                }),
                None => Err(CommandError::UNKNOWN_USER),
            },
            RequestBody::RequestChat(to) => {
                match self.request_chat(&me, &to, now, (id, rid), route) {
                    Ok(Some(body)) => Ok(body),
                    // A user of another node: the response waits for that node's verdict.
                    Ok(None) => return,
                    Err(error) => Err(error),
                }
            }
            RequestBody::Answer { from, accept } => self.answer(&me, &from, accept, route),
            RequestBody::Withdraw => match self.requests.remove_outgoing(&me) {
                Some(to) => {
                    self.notify(&to, &Notice::RequestWithdrawn { from: me.clone() });
                    Ok(ResponseBody::Withdrawn)
                }
                None => match self.withdraw_remote(&me) {
                    Some(_) => Ok(ResponseBody::Withdrawn),
                    None => Err(CommandError::NO_SUCH_REQUEST),
                },
            },
            RequestBody::ChatData(payload) => match self.online_by_id(id).and_then(|o| {
                let node = o.chat_node.clone();
                o.chat.clone().map(|peer| (peer, node))
            }) {
                Some((peer, node)) => {
                    let deliver = Deliver {
                        relay: self,
                        from: &me,
                        peer: &peer,
                        peer_node: node,
                    };
                    route.chat_data(&me, &peer, payload, deliver);
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

    pub(super) fn respond(&mut self, id: ConnectionId, rid: RequestId, body: ResponseBody) {
        // The user list is cut at MAX_LISTED_USERS and names are valid by construction:
        // the encoder cannot refuse. Were it to, the response is not sent.
        if let Ok(response) = (Response { id: rid, body }).to_bytes() {
            self.send(id, Channel::Standard, &response);
        }
    }

    /// Everyone online, on this node and (clustered) the others, in name order.
    ///
    /// Both sources are already in name order (and disjoint): they are merged, and only the
    /// listed users are touched, however many users the cluster has.
    fn list_users<R: Route + ?Sized>(&self, route: &mut R) -> ResponseBody {
        let mut local = self
            .online
            .iter()
            .filter_map(
                |(user, id)| match self.connections.get(id).map(|c| &c.state) {
                    Some(super::ConnState::Online(o)) => Some((user, o.key)),
                    _ => None,
                },
            )
            .peekable();
        let mut remote = self.remote_users().peekable();
        let mut users = Vec::new();
        let mut truncated = false;
        loop {
            let next = match (local.peek(), remote.peek()) {
                (Some(l), Some(r)) if r.0 < l.0 => remote.next(),
                (Some(_), _) => local.next(),
                (None, _) => remote.next(),
            };
            let Some((username, key)) = next else { break };
            if users.len() == MAX_LISTED_USERS {
                truncated = true;
                break;
            }
            users.push(UserEntry {
                fingerprint: route.key_for(username, key).fingerprint(),
                username: username.clone(),
            });
        }
        ResponseBody::Users { users, truncated }
    }

    /// `Ok(None)`: sent to another node, whose verdict answers the request later.
    fn request_chat<R: Route + ?Sized>(
        &mut self,
        me: &Username,
        to: &Username,
        now: Instant,
        awaiting: (ConnectionId, RequestId),
        route: &mut R,
    ) -> Result<Option<ResponseBody>, CommandError> {
        if me == to {
            return Err(CommandError::SELF_REQUEST);
        }
        if self.chat_peer(me).is_some() {
            return Err(CommandError::ALREADY_CHATTING);
        }
        if self.outgoing_target(me).is_some() {
            return Err(CommandError::REQUEST_PENDING);
        }
        if self.server.directory.lookup(to).is_none() {
            return Err(CommandError::UNKNOWN_USER);
        }
        if !self.online.contains_key(to) {
            let Some(node) = self.remote_node(to) else {
                return Err(if self.bus_reachable() {
                    CommandError::OFFLINE
                } else {
                    CommandError::UNREACHABLE
                });
            };
            if self.requests.contains(me, to) {
                return Err(CommandError::REQUEST_PENDING);
            }
            let Some(my_key) = self.online_mut(me).map(|o| o.key) else {
                return Err(CommandError::OFFLINE);
            };
            let my_key = route.key_for(me, my_key);
            self.send_remote_request(me, my_key, to, node, awaiting);
            return Ok(None);
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
        Ok(Some(ResponseBody::RequestSent))
    }

    fn answer<R: Route + ?Sized>(
        &mut self,
        me: &Username,
        from: &Username,
        accept: bool,
        route: &mut R,
    ) -> Result<ResponseBody, CommandError> {
        let Some(origin) = self.requests.take(me, from) else {
            return Err(CommandError::NO_SUCH_REQUEST);
        };
        if let Some(node) = origin {
            return self.answer_remote(me, from, node, accept, route);
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

    /// Answers a request from `from`, a user of `node`: that node learns the answer and,
    /// if it still wants it, the chat starts there too (else it says the requester left).
    fn answer_remote<R: Route + ?Sized>(
        &mut self,
        me: &Username,
        from: &Username,
        node: NodeId,
        accept: bool,
        route: &mut R,
    ) -> Result<ResponseBody, CommandError> {
        let deny = BusBody::Denied {
            from: me.clone(),
            to: from.clone(),
        };
        if !accept {
            self.publish(&node, deny);
            return Ok(ResponseBody::Answered);
        }
        if self.chat_peer(me).is_some() {
            self.publish(&node, deny);
            return Err(CommandError::ALREADY_CHATTING);
        }
        let Some(my_key) = self.online_mut(me).map(|o| o.key) else {
            return Err(CommandError::OFFLINE);
        };
        let my_key = route.key_for(me, my_key);
        self.settle_requests_of(me);
        if let Some(o) = self.online_mut(me) {
            o.chat = Some(from.clone());
            o.chat_node = Some(node.clone());
        }
        self.publish(
            &node,
            BusBody::Accepted {
                from: me.clone(),
                to: from.clone(),
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
        let peer_node = self.online_mut(me).and_then(|o| o.chat_node.clone());
        self.end_chat_of(me);
        match peer_node {
            Some(node) => self.publish(
                &node,
                BusBody::Left {
                    from: me.clone(),
                    to: peer.clone(),
                    reason: GoneReason::LEFT,
                },
            ),
            None => {
                self.end_chat_of(peer);
                self.notify(
                    peer,
                    &Notice::PeerLeft {
                        peer: me.clone(),
                        reason: GoneReason::LEFT,
                    },
                );
            }
        }
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
        // The server never dials a privileged port on a client's behalf.
        if port < self.config.min_callback_port {
            return Err(CommandError::PORT_REFUSED);
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
