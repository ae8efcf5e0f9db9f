"""Handlers of the notification commands: staff's (``HANDLERS``: retry a failed notification,
change a template) and the managers' (queue, record a send and its outcome), each one
``execute`` on one stream (load, decide, append at the version loaded)."""

from __future__ import annotations

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from domain.notification import commands as cmd
from domain.notification import decide as d
from domain.notification.ids import template_stream
from domain.notification.state import NOTIFICATION, TEMPLATE
from eventstore.store import EventStore


def queue(store: EventStore, c: cmd.QueueNotification, ctx: CommandContext) -> Outcome:
    """Appended at version 0 or not at all: a second queuing of the same (source event,
    channel) finds the stream and writes nothing, a concurrent one conflicts and is decided
    again to the same end."""
    return execute(store, NOTIFICATION, c.notification_id, lambda s, _: d.queue(s, c, ctx.now), ctx)


def record_sent(store: EventStore, c: cmd.RecordNotificationSent, ctx: CommandContext) -> Outcome:
    return execute(
        store, NOTIFICATION, c.notification_id, lambda s, _: d.record_sent(s, c, ctx.now), ctx
    )


def record_delivered(
    store: EventStore, c: cmd.RecordNotificationDelivered, ctx: CommandContext
) -> Outcome:
    return execute(
        store, NOTIFICATION, c.notification_id, lambda s, _: d.record_delivered(s, c, ctx.now), ctx
    )


def record_failed(
    store: EventStore, c: cmd.RecordNotificationFailed, ctx: CommandContext, policy: cmd.RetryPolicy
) -> Outcome:
    return execute(
        store,
        NOTIFICATION,
        c.notification_id,
        lambda s, _: d.record_failed(s, c, ctx.now, policy),
        ctx,
    )


def requeue(store: EventStore, c: cmd.RequeueNotification, ctx: CommandContext) -> Outcome:
    return execute(
        store,
        NOTIFICATION,
        c.notification_id,
        lambda s, _: d.requeue(s, c, ctx.now, by=ctx.actor),
        ctx,
    )


def retry(w: WriteSide, c: cmd.RetryNotification, ctx: CommandContext) -> Outcome:
    return execute(
        w.store,
        NOTIFICATION,
        c.notification_id,
        lambda s, _: d.retry(s, c, ctx.now, by=ctx.actor),
        ctx,
    )


def change_template(
    w: WriteSide, c: cmd.ChangeNotificationTemplate, ctx: CommandContext
) -> Outcome:
    return execute(
        w.store,
        TEMPLATE,
        template_stream(c.name),
        lambda s, _: d.change_template(s, c, ctx.now, by=ctx.actor),
        ctx,
    )


HANDLERS = {cmd.RetryNotification: retry, cmd.ChangeNotificationTemplate: change_template}
