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

DynamoDB stream event sources (jobstack's lifecycle-event publisher). MiniStack 1.5.33 retries a stream batch whose
invocation failed until it is older than MaximumRecordAgeInSeconds, but takes a response with batchItemFailures as a
full success and moves on, so a record the publisher could not publish would be dropped without a trace. This patch
makes such a response a failure of the batch (AWS retries from the lowest failed record; locally the whole batch is
retried, so records before it are published again: still at least once) and, after MaximumRetryAttempts failures of
the same batch, sends the on-failure record (RetryAttemptsExhausted) and moves on, as AWS does. Bisection is not
imitated. Only invocations made by the stream poller are affected.
"""
import json
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

from ministack.services import eventbridge as _eb
from ministack.services import lambda_svc as _lambda
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


_stream_poll = threading.local()
_stream_failures = {}
_original_execute_function = _lambda._execute_function
_original_poll_dynamodb_streams = _lambda._poll_dynamodb_streams


def _batch_item_failures(body):
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return []
    failures = body.get("batchItemFailures") if isinstance(body, dict) else None
    return failures if isinstance(failures, list) else []


def _stream_mapping_of(func, event):
    records = event.get("Records") or []
    name = (func.get("config") or func).get("FunctionName", "")
    for _account, _region, esm in _lambda._iter_all_esms():
        if ":table/" in esm.get("EventSourceArn", "") and esm.get("FunctionName", "").split(":")[-1] in (name, name.split(":")[-1]):
            if "ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or []) and records:
                return esm
    return None


def _execute_reporting_stream_failures(func, event):
    result = _original_execute_function(func, event)
    if not getattr(_stream_poll, "active", False) or not isinstance(event, dict):
        return result
    esm = _stream_mapping_of(func, event)
    if esm is None:
        return result
    records = event.get("Records") or []
    key = (esm.get("UUID"), ((records[0] or {}).get("dynamodb") or {}).get("SequenceNumber"))
    failures = _batch_item_failures(result.get("body"))
    if not result.get("error") and not failures:
        _stream_failures.pop(key, None)
        return result
    count = _stream_failures.get(key, 0) + 1
    _stream_failures[key] = count
    retries = esm.get("MaximumRetryAttempts")
    if retries is not None and int(retries) >= 0 and count > int(retries):
        _stream_failures.pop(key, None)
        _lambda._send_ddb_stream_failure_record(esm, func, records, esm.get("EventSourceArn"), result, "RetryAttemptsExhausted")
        return {**result, "error": False, "body": {"batchItemFailures": []}}
    if result.get("error"):
        return result
    return {
        **result,
        "error": True,
        "body": {"errorType": "BatchItemFailures", "errorMessage": f"{len(failures)} batch item failure(s) reported"},
    }


def _poll_dynamodb_streams_with_item_failures():
    _stream_poll.active = True
    try:
        return _original_poll_dynamodb_streams()
    finally:
        _stream_poll.active = False


_eb._invoke_target = _invoke_target_with_context
_lambda._execute_function = _execute_reporting_stream_failures
_lambda._poll_dynamodb_streams = _poll_dynamodb_streams_with_item_failures
_sched._SCHEDULE_TICK_INTERVAL = 1
_sqs._collect_msgs = _collect_msgs_fairly

if __name__ == "__main__":
    from ministack.app import main

    sys.argv[0] = "ministack"
    sys.exit(main())
