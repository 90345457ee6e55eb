"""Repository: async functions, one database transaction per business operation.

Grouped by job and re-exported here, so callers write `from smsgw.store import repository` and
`await repository.mark_sent(db, …)`:

- incoming: SIM parts stored, reassembled, and their `incoming_sms` event queued;
- scheduling: scheduled messages released when due, and cancels;
- queueing, sending, recovery, limits: the outgoing queue, a claimed send's parts and final
  status, crash recovery and lease renewal, and the per-modem daily counters;
- reports: delivery reports matched to sent parts;
- outbox, outcomes, replies, dead_letters: webhook events claimed per peer, what each POST
  achieved (recorded in bulk), the auto-reply a webhook answered with, and events given up;
- mqtt_outbox: events owed to the MQTT broker, the second sink's own delivery state;
- optouts: numbers that asked for no more messages (STOP); keyword_replay: STOPs not acted on;
- queries, history, inbox, nodes: reads for the API and web inbox, and node heartbeats;
- alerts, quarantine: open/close modem alerts once; undecodable inbound SMS kept aside;
- retention: old history and finished events pruned in small batches.
"""

from smsgw.store.repository.alerts import (
    list_open_alerts,
    raise_alert,
    resolve_alert,
)
from smsgw.store.repository.dead_letters import list_dead_letters, retry_dead_letter
from smsgw.store.repository.export import iter_history
from smsgw.store.repository.history import conversation_history
from smsgw.store.repository.idempotency import retire_idempotency_key
from smsgw.store.repository.incoming import (
    MISSING_PART_MARKER,
    deliver_timed_out_parts,
    incoming_part_committer,
    prune_incoming_parts,
)
from smsgw.store.repository.keyword_replay import (
    CONFIRMATION_KEY_PREFIX,
    KeywordCandidate,
    keyword_candidates,
)
from smsgw.store.repository.limits import daily_count
from smsgw.store.repository.mqtt_outbox import (
    MqttPending,
    claim_mqtt_events,
    mark_mqtt_failed,
    mark_mqtt_published,
    mqtt_pending_count,
    received_today,
    release_mqtt_claims,
)
from smsgw.store.repository.nodes import heartbeat_modem, heartbeat_node, list_modem_heartbeats
from smsgw.store.repository.optouts import (
    OptOut,
    add_optout,
    get_optout,
    list_optouts,
    remove_optout,
)
from smsgw.store.repository.outbox import (
    claim_due_events,
    enqueue_event,
    next_event_due_at,
    outbox_counts,
    release_event_claims,
)
from smsgw.store.repository.outcomes import (
    Finished,
    IncomingCompleted,
    IncomingDelivered,
    OutcomeRecorder,
    RetryLater,
)
from smsgw.store.repository.quarantine import (
    list_quarantine,
    quarantine_pdu,
    release_quarantined,
)
from smsgw.store.repository.queries import get_message, last_modem_with, list_messages
from smsgw.store.repository.queueing import (
    DEFAULT_LEASE,
    SendClaim,
    claim_next_outgoing,
    enqueue_outgoing,
    queue_depths,
    release_unsent_claim,
)
from smsgw.store.repository.recovery import (
    INTERRUPTED,
    interrupt_expired_sends,
    interrupt_stale_sends,
    renew_send_claims,
)
from smsgw.store.repository.reports import apply_status_report, part_status_for
from smsgw.store.repository.retention import prune_events, prune_messages
from smsgw.store.repository.scheduling import (
    CancelOutcome,
    cancel_outgoing,
    next_scheduled_at,
    release_due_scheduled,
)
from smsgw.store.repository.sending import mark_failed, mark_sent, record_part_sent

__all__ = [
    "CONFIRMATION_KEY_PREFIX",
    "DEFAULT_LEASE",
    "INTERRUPTED",
    "MISSING_PART_MARKER",
    "CancelOutcome",
    "Finished",
    "IncomingCompleted",
    "IncomingDelivered",
    "KeywordCandidate",
    "MqttPending",
    "OptOut",
    "OutcomeRecorder",
    "RetryLater",
    "SendClaim",
    "add_optout",
    "apply_status_report",
    "cancel_outgoing",
    "claim_due_events",
    "claim_mqtt_events",
    "claim_next_outgoing",
    "conversation_history",
    "daily_count",
    "deliver_timed_out_parts",
    "enqueue_event",
    "enqueue_outgoing",
    "get_message",
    "get_optout",
    "heartbeat_modem",
    "heartbeat_node",
    "incoming_part_committer",
    "interrupt_expired_sends",
    "interrupt_stale_sends",
    "iter_history",
    "keyword_candidates",
    "last_modem_with",
    "list_dead_letters",
    "list_messages",
    "list_modem_heartbeats",
    "list_open_alerts",
    "list_optouts",
    "list_quarantine",
    "mark_failed",
    "mark_mqtt_failed",
    "mark_mqtt_published",
    "mark_sent",
    "mqtt_pending_count",
    "next_event_due_at",
    "next_scheduled_at",
    "outbox_counts",
    "part_status_for",
    "prune_events",
    "prune_incoming_parts",
    "prune_messages",
    "quarantine_pdu",
    "queue_depths",
    "raise_alert",
    "received_today",
    "record_part_sent",
    "release_due_scheduled",
    "release_event_claims",
    "release_mqtt_claims",
    "release_quarantined",
    "release_unsent_claim",
    "remove_optout",
    "renew_send_claims",
    "resolve_alert",
    "retire_idempotency_key",
    "retry_dead_letter",
]
