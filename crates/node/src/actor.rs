//! Who acts on this node, what their role lets them do, and the record of
//! it.
//!
//! The console and the local API act for a named user with a role: the
//! console by its session, the API by the user's token (or the node's own
//! `api.token`, which belongs to the built-in `operator`, an
//! administrator). Both go through [`append_as`], which refuses a kind the
//! role may not send (only a signatory signs) and records every action,
//! done or refused, in the append-only action log with the user, the
//! client's address and the entry it produced.

use std::sync::Arc;

use parley_log::Hash;
use parley_store::ActionRecord;
use serde_json::Value;

use crate::console::auth::Role;
use crate::feeds::{self, AppendError, Appended};
use crate::state::Node;

/// The user the node's own `api.token` belongs to.
pub const OPERATOR: &str = "operator";

/// A user acting, and from where.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: String,
    pub role: Role,
    /// The client's address (`local` for a command run on the host).
    pub client: String,
}

impl Actor {
    /// The node's operator, by the node's own token.
    pub fn operator(client: String) -> Actor {
        Actor {
            user: OPERATOR.into(),
            role: Role::Administrator,
            client,
        }
    }

    /// The action log's record of this actor doing `action` now.
    pub fn record(
        &self,
        action: &str,
        target: &str,
        entry: Option<String>,
        outcome: &str,
    ) -> ActionRecord {
        ActionRecord {
            id: 0,
            time: Node::now(),
            user: self.user.clone(),
            role: self.role.as_str().to_string(),
            client: self.client.clone(),
            action: action.to_string(),
            target: target.to_string(),
            entry,
            outcome: outcome.to_string(),
        }
    }
}

/// Appends an entry as `actor`: refused (and recorded as refused) when the
/// actor's role may not send `kind`.
///
/// # Errors
/// The role may not send the kind, or the append fails (see
/// [`feeds::append_own`]).
pub async fn append_as(
    node: &Arc<Node>,
    actor: &Actor,
    channel: &str,
    kind: &str,
    body: Value,
    refs: Vec<Hash>,
) -> Result<Appended, AppendError> {
    // The kind says what the action was (a signature, an acknowledgement,
    // a channel act): the log names it rather than a word for it.
    let action = &format!("send {kind}");
    if !actor.role.may_send(kind) {
        let why = format!(
            "{} ({}) may not send {kind}",
            actor.user,
            actor.role.title()
        );
        record(
            node,
            actor,
            action,
            channel,
            None,
            &format!("refused: {why}"),
        )
        .await;
        return Err(AppendError::NotPermitted(why));
    }
    // A made entry is recorded in its own commit; a refusal afterwards.
    let done = actor.record(action, channel, None, "ok");
    let result = feeds::append_own_by(node, channel, kind, body, refs, Some(done)).await;
    if let Err(e) = &result {
        record(node, actor, action, channel, None, &format!("refused: {e}")).await;
    }
    result
}

/// Records an action. A failure to record is logged, never hidden: the
/// action itself has happened (or been refused) already.
pub async fn record(
    node: &Node,
    actor: &Actor,
    action: &str,
    target: &str,
    entry: Option<String>,
    outcome: &str,
) {
    let rec = actor.record(action, target, entry, outcome);
    tracing::info!(user = %rec.user, client = %rec.client, action = %rec.action, target = %rec.target, outcome = %rec.outcome, "action");
    if let Err(e) = node.db(move |s| s.record_action(&rec)).await {
        tracing::error!(error = %e, "could not record an action in the action log");
    }
}
