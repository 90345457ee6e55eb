"""Repository: async functions, one database transaction per business operation.

Grouped by job (incoming, outgoing, reports, outbox, queries, nodes) and re-exported here, so
callers write `from smsgw.store import repository` and `await repository.mark_sent(db, …)`.
"""

from smsgw.store.repository.history import conversation_history
from smsgw.store.repository.incoming import (
    MISSING_PART_MARKER,
    deliver_timed_out_parts,
    incoming_part_committer,
    prune_incoming_parts,
    store_incoming_part,
)
from smsgw.store.repository.nodes import heartbeat_modem, heartbeat_node, list_modem_heartbeats
from smsgw.store.repository.outbox import (
    Finished,
    IncomingCompleted,
    IncomingDelivered,
    OutcomeRecorder,
    RetryLater,
    claim_due_events,
    complete_event,
    complete_incoming_event,
    dead_letter,
    drop_event,
    enqueue_event,
    list_dead_letters,
    next_event_due_at,
    outbox_counts,
    release_event_claims,
    retry_dead_letter,
    schedule_retry,
)
from smsgw.store.repository.outgoing import (
    DEFAULT_LEASE,
    INTERRUPTED,
    SendClaim,
    claim_next_outgoing,
    daily_count,
    enqueue_outgoing,
    interrupt_expired_sends,
    interrupt_stale_sends,
    mark_failed,
    mark_sent,
    queue_depths,
    record_part_sent,
    release_unsent_claim,
    renew_send_claims,
)
from smsgw.store.repository.queries import get_message, list_messages
from smsgw.store.repository.reports import apply_status_report, part_status_for

__all__ = [
    "DEFAULT_LEASE",
    "INTERRUPTED",
    "MISSING_PART_MARKER",
    "Finished",
    "IncomingCompleted",
    "IncomingDelivered",
    "OutcomeRecorder",
    "RetryLater",
    "SendClaim",
    "apply_status_report",
    "claim_due_events",
    "claim_next_outgoing",
    "complete_event",
    "complete_incoming_event",
    "conversation_history",
    "daily_count",
    "dead_letter",
    "deliver_timed_out_parts",
    "drop_event",
    "enqueue_event",
    "enqueue_outgoing",
    "get_message",
    "heartbeat_modem",
    "heartbeat_node",
    "incoming_part_committer",
    "interrupt_expired_sends",
    "interrupt_stale_sends",
    "list_dead_letters",
    "list_messages",
    "list_modem_heartbeats",
    "mark_failed",
    "mark_sent",
    "next_event_due_at",
    "outbox_counts",
    "part_status_for",
    "prune_incoming_parts",
    "queue_depths",
    "record_part_sent",
    "release_event_claims",
    "release_unsent_claim",
    "renew_send_claims",
    "retry_dead_letter",
    "schedule_retry",
    "store_incoming_part",
]
