"""Starts MiniStack with jobstack's emulator patches (local tooling only; nothing here reaches AWS).

MiniStack 1.5.33 fires EventBridge Scheduler schedules (at(), rate(), cron()) into SQS, but sends the target's Input
verbatim. AWS substitutes Scheduler's context attributes in it first; jobstack's recurring schedules rely on
<aws.scheduler.scheduled-time> for the deterministic job id of each fire. This patch substitutes them the way AWS
documents: scheduled-time is the fire's due time in UTC (the at() time, the rate() slot counted from the schedule's
creation, or the current minute for cron()), schedule-arn the schedule's ARN, execution-id a new id per fire,
attempt-number 1.

It also ticks the scheduler every second instead of every 10 seconds, so delayed jobs start close to their time.

Fair queues (local stand-in). AWS SQS fair queues (2025) deliver a quiet tenant's messages ahead of a noisy tenant's
backlog on a standard queue whose messages carry a MessageGroupId:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-fair-queues.html
MiniStack 1.5.33 accepts and stores MessageGroupId on a standard queue but receives strictly oldest-first, so a
tenant's 1,000-message backlog holds up everyone. This patch makes every receive from a standard queue whose visible
messages carry group ids (ReceiveMessage and the Lambda event source poller alike) pick, message by message, from the
tenant with the fewest messages in flight (counting the ones already picked for this batch), the oldest message
first; ties go to the tenant whose oldest visible message is oldest. A message without a group is its own tenant, as
on AWS. It is simpler and stronger than AWS, which only steps in once a tenant is detected as noisy (at least 30
messages in flight and over 10% of the queue's, or over 10% of consumer time): locally the quiet tenant is served
from the first receive. FIFO queues and standard queues without group ids are untouched.
"""
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from ministack.services import eventbridge as _eb
from ministack.services import scheduler as _sched
from ministack.services import sqs as _sqs

_original_invoke_target = _eb._invoke_target


def _scheduled_time(schedule, now):
    expression = schedule.get("ScheduleExpression", "")
    due = _sched._at_time_epoch(expression)
    if due is None:
        interval = _eb._parse_rate_seconds(expression)
        created = _sched._to_epoch(schedule.get("CreationDate"))
        if interval and created is not None:
            due = created + interval * max(1, int((now - created) // interval))
        else:
            due = now - (now % 60)
    return datetime.fromtimestamp(int(due), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invoke_target_with_context(target, event, rule, view=None):
    text = target.get("Input") if isinstance(target, dict) else None
    if event.get("Source") == "aws.scheduler" and isinstance(text, str) and "<aws.scheduler." in text:
        now = float(event.get("Time") or 0) or datetime.now(timezone.utc).timestamp()
        values = {
            "scheduled-time": _scheduled_time(rule or {}, now),
            "schedule-arn": (rule or {}).get("Arn", ""),
            "execution-id": str(uuid.uuid4()),
            "attempt-number": "1",
        }
        text = re.sub(r"<aws\.scheduler\.([a-z-]+)>", lambda m: values.get(m.group(1), m.group(0)), text)
        target = {**target, "Input": text}
    return _original_invoke_target(target, event, rule, view)


_original_collect_msgs = _sqs._collect_msgs


def _tenant(message):
    group = message.get("group_id")
    return ("group", group) if group else ("message", message.get("id"))


def _collect_msgs_fairly(q, max_n, vis_timeout):
    if q.get("is_fifo"):
        return _original_collect_msgs(q, max_n, vis_timeout)
    now = time.time()
    visible = [m for m in q["messages"] if m["visible_at"] <= now]
    if not any(m.get("group_id") for m in visible):
        return _original_collect_msgs(q, max_n, vis_timeout)
    for m in q["messages"]:
        _sqs._ensure_msg_fields(m)
    in_flight = {}
    for m in q["messages"]:
        if m["visible_at"] > now and m.get("receive_count", 0) > 0:
            in_flight[_tenant(m)] = in_flight.get(_tenant(m), 0) + 1
    waiting = {}  # tenant -> its visible messages, oldest first; dict order = the tenant's oldest message first
    for m in visible:
        waiting.setdefault(_tenant(m), []).append(m)
    picked = []
    while len(picked) < max_n and waiting:
        tenant = min(waiting, key=lambda t: in_flight.get(t, 0))
        messages = waiting[tenant]
        picked.append(messages.pop(0))
        in_flight[tenant] = in_flight.get(tenant, 0) + 1
        if not messages:
            del waiting[tenant]
    for m in picked:
        m["receipt_handle"] = _sqs.new_uuid()
        m["visible_at"] = now + vis_timeout
        m["receive_count"] += 1
        if m.get("first_receive_at") is None:
            m["first_receive_at"] = now
    return picked


_eb._invoke_target = _invoke_target_with_context
_sched._SCHEDULE_TICK_INTERVAL = 1
_sqs._collect_msgs = _collect_msgs_fairly

if __name__ == "__main__":
    from ministack.app import main

    sys.argv[0] = "ministack"
    sys.exit(main())
