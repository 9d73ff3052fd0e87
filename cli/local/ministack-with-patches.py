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

CloudWatch alarms (local stand-ins, for the metrics bridge in cli/local/metrics-bridge/). MiniStack 1.5.33 evaluates
every metric alarm on each PutMetricData, but (a) over every series of the alarm's namespace and metric name, whatever
its dimensions, so one queue's dead letter would fire every queue's alarm, and (b) never moves an alarm whose window
holds no data points, so an alarm that treats missing data as not breaching stays in ALARM forever once the condition
is gone. AWS evaluates only the series with the alarm's exact dimensions, and applies TreatMissingData when the
period has no data: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
This patch does both (exact dimensions; notBreaching -> OK, breaching -> ALARM, missing -> INSUFFICIENT_DATA, ignore
-> unchanged). The window stays MiniStack's: the data points of the last Period x EvaluationPeriods seconds up to now
(AWS uses whole periods); alarms are still evaluated only when metric data is put (the bridge puts every few seconds).

ApproximateAgeOfOldestMessage (local stand-in). On AWS it is a CloudWatch metric, not a queue attribute, and MiniStack
publishes no SQS metrics. When GetQueueAttributes names it explicitly (never with All), this patch answers with the
age in whole seconds of the queue's oldest message that is not waiting out a delay (visible or in flight), from the
time it was sent (or moved into a FIFO dead-letter queue); 0 for an empty queue. The metrics bridge reads it: a
ReceiveMessage would count as a receive and move messages towards their dead-letter queue.

Lambda errors in the logs. AWS's Node.js runtime writes an `ERROR  Invoke Error` line for a failed invocation;
MiniStack 1.5.33 writes only the error's text, and records AWS/Lambda Errors only for the Invoke API, not for event
source mappings (how every worker runs). This patch adds the line `<time>  <request id>  ERROR  Invoke Error  ...`
to the invocation's log when MiniStack saw it fail (the metrics bridge counts these, one per request id), and
stops MiniStack's own Errors count so that an error is never counted twice.
Log lines of the right invocation. MiniStack 1.5.33 collects a Node.js Lambda's log lines for an invocation by
draining its stderr until no line has come for 5 ms after the response; on a busy machine the last lines (the EMF
metric lines Powertools writes at the end of an invocation) miss that window and are logged with the function's next
invocation, which may never come. This patch makes the Node.js bootstrap write an end-of-invocation marker to stderr
before its response, and the drain read up to that marker (at most 2 s), so every line lands with its invocation.
Stream records for PartiQL updates. MiniStack 1.5.33 evaluates the conditions of PartiQL writes (ExecuteStatement,
BatchExecuteStatement) but writes no DynamoDB stream record for an UPDATE, where AWS streams every item change
whatever API made it: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html ("each time an
item is modified"). The worker writes the successes of a batch as one BatchExecuteStatement of UPDATEs, and lifecycle
events and flows read the stream; this patch emits the MODIFY record (old and new image) for every UPDATE that
changed an item, as UpdateItem does. It also sets JOBSTACK_EMULATOR_PARTIQL_STREAMS=1 in MiniStack's environment,
which MiniStack hands to every Lambda it runs, so the worker knows it may batch its success writes here (without it,
the worker writes each success as an UpdateItem on any endpoint other than AWS's).
"""
import copy
import json
import os
import queue
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

from ministack.core import lambda_runtime as _lr
from ministack.services import cloudwatch as _cw
from ministack.services import dynamodb as _ddb
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


def _alarm_series_points(alarm):
    namespace, metric = alarm.get("Namespace"), alarm.get("MetricName")
    wanted = {d.get("Name"): d.get("Value") for d in alarm.get("Dimensions") or []}
    points = []
    for (k_ns, k_mn, _), pts in _cw._metrics.items():
        if k_ns == namespace and k_mn == metric:
            points.extend(p for p in pts if dict(p.get("Dimensions") or {}) == wanted)
    return points


def _set_alarm_state(alarm, new_state, reason):
    old_state = alarm["StateValue"]
    if old_state == new_state:
        return
    alarm["StateValue"] = new_state
    alarm["StateReason"] = reason
    alarm["StateUpdatedTimestamp"] = int(time.time())
    _cw._record_history(alarm["AlarmName"], old_state, new_state, reason)
    _cw._dispatch_alarm_actions(alarm, old_state, new_state, reason)
    _cw._evaluate_parent_alarms(alarm)


_MISSING_DATA_STATE = {"notBreaching": "OK", "breaching": "ALARM", "missing": "INSUFFICIENT_DATA"}


def _evaluate_alarm_like_aws(alarm):
    if not alarm.get("Namespace") or not alarm.get("MetricName"):
        return
    window = alarm.get("Period", 60) * alarm.get("EvaluationPeriods", 1)
    cutoff = time.time() - window
    recent = [p for p in _alarm_series_points(alarm) if p["Timestamp"] >= cutoff]
    stats = _cw._calc_stats(recent) if recent else {}
    if not stats:
        state = _MISSING_DATA_STATE.get(alarm.get("TreatMissingData") or "missing")
        if state is not None:
            _set_alarm_state(alarm, state, f"No data points in the last {window} s (TreatMissingData: {alarm.get('TreatMissingData') or 'missing'})")
        return
    stat_name = alarm.get("ExtendedStatistic") or alarm.get("Statistic", "Average")
    value = _cw._stat_value(stats, stat_name, recent)
    if value is None:
        return
    threshold = alarm.get("Threshold", 0)
    op = alarm.get("ComparisonOperator", "")
    breaching = {
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "GreaterThanThreshold": value > threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }.get(op, False)
    _set_alarm_state(alarm, "ALARM" if breaching else "OK", f"Threshold Crossed: {stat_name} {value} {op} {threshold}")


_original_get_queue_attributes = _sqs._act_get_queue_attributes


def _get_queue_attributes_with_age(data, qurl):
    out = _original_get_queue_attributes(data, qurl)
    if "ApproximateAgeOfOldestMessage" in (data.get("AttributeNames") or []) and isinstance(out, dict):
        q = _sqs._get_q(data.get("QueueUrl", qurl), "sqs:GetQueueAttributes")
        now = time.time()
        ages = [
            now - m.get("enqueued_at", m.get("sent_at", now))
            for m in q["messages"]
            if m.get("visible_at", 0) <= now or m.get("receive_count", 0) > 0
        ]
        out.setdefault("Attributes", {})["ApproximateAgeOfOldestMessage"] = str(int(max(ages))) if ages else "0"
    return out


_original_emit_lambda_logs = _lambda._emit_lambda_logs


def _emit_lambda_logs_with_error_line(func, request_id, log_text, error, duration_ms, *, log_source=None):
    if error and "Invoke Error" not in (log_text or ""):
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        last = (log_text or "").strip().splitlines()[-1:] or ["(no output)"]
        line = f"{stamp}\t{request_id}\tERROR\tInvoke Error \t{last[0][:500]}"
        log_text = f"{log_text}\n{line}" if log_text else line
    return _original_emit_lambda_logs(func, request_id, log_text, error, duration_ms, log_source=log_source)


_original_emit_lambda_metrics = _lambda._emit_lambda_metrics


def _emit_lambda_metrics_without_errors(function_name, duration_ms, error, throttle):
    return _original_emit_lambda_metrics(function_name, duration_ms=duration_ms, error=False, throttle=throttle)

_INVOCATION_END = "__jobstack_invocation_end__"
_SETTLE = "        if (settled) return;\n        settled = true;\n"
if _lr._NODEJS_WORKER_SCRIPT.count(_SETTLE) != 1:
    raise SystemExit("ministack-with-patches: the Node.js bootstrap changed; review the invocation-end marker patch")
_lr._NODEJS_WORKER_SCRIPT = _lr._NODEJS_WORKER_SCRIPT.replace(
    _SETTLE, _SETTLE + f'        _stderrWrite("{_INVOCATION_END}\\n");\n'
)
_original_drain = _lr.Worker._drain_stderr_bounded


def _drain_to_invocation_end(self, *args, **kwargs):
    if not str(self.config.get("Runtime", "")).startswith("nodejs"):
        return _original_drain(self, *args, **kwargs)
    lines = []
    deadline = time.time() + 2.0
    while True:
        left = deadline - time.time()
        if left <= 0:
            break
        try:
            line = self._stderr_queue.get(timeout=left)
        except queue.Empty:
            break
        if line == _INVOCATION_END:
            break
        lines.append(line)
    return "\n".join(lines)


_original_partiql_update = _ddb._partiql_update


def _partiql_update_with_stream_record(table, parsed, data=None):
    pk_key, sk_key, _condition, err = _ddb._partiql_key_target(table, parsed)
    before = None if err else copy.deepcopy(table["items"].get(pk_key, {}).get(sk_key))
    status, headers, body = _original_partiql_update(table, parsed, data)
    if status == 200 and before is not None:
        after = table["items"].get(pk_key, {}).get(sk_key)
        if after is not None and after != before:
            _ddb._emit_stream_event(table["TableName"], "MODIFY", before, copy.deepcopy(after))
    return status, headers, body


_eb._invoke_target = _invoke_target_with_context
_lambda._execute_function = _execute_reporting_stream_failures
_lambda._poll_dynamodb_streams = _poll_dynamodb_streams_with_item_failures
_sched._SCHEDULE_TICK_INTERVAL = 1
_sqs._collect_msgs = _collect_msgs_fairly
_cw._evaluate_alarm = _evaluate_alarm_like_aws
_lr.Worker._drain_stderr_bounded = _drain_to_invocation_end
_sqs._act_get_queue_attributes = _get_queue_attributes_with_age
_sqs._HANDLERS["GetQueueAttributes"] = _get_queue_attributes_with_age
_lambda._emit_lambda_logs = _emit_lambda_logs_with_error_line
_lambda._emit_lambda_metrics = _emit_lambda_metrics_without_errors
_ddb._partiql_update = _partiql_update_with_stream_record
os.environ["JOBSTACK_EMULATOR_PARTIQL_STREAMS"] = "1"

if __name__ == "__main__":
    from ministack.app import main

    sys.argv[0] = "ministack"
    sys.exit(main())
