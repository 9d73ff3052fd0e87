"""Starts MiniStack with jobstack's emulator patches (local tooling only; nothing here reaches AWS).

MiniStack 1.5.33 fires EventBridge Scheduler schedules (at(), rate(), cron()) into SQS, but sends the target's Input
verbatim. AWS substitutes Scheduler's context attributes in it first; jobstack's recurring schedules rely on
<aws.scheduler.scheduled-time> for the deterministic job id of each fire. This patch substitutes them the way AWS
documents: scheduled-time is the fire's due time in UTC (the at() time, the rate() slot counted from the schedule's
creation, or the current minute for cron()), schedule-arn the schedule's ARN, execution-id a new id per fire,
attempt-number 1.

It also ticks the scheduler every second instead of every 10 seconds, so delayed jobs start close to their time.
"""
import re
import sys
import uuid
from datetime import datetime, timezone

from ministack.services import eventbridge as _eb
from ministack.services import scheduler as _sched

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


_eb._invoke_target = _invoke_target_with_context
_sched._SCHEDULE_TICK_INTERVAL = 1

if __name__ == "__main__":
    from ministack.app import main

    sys.argv[0] = "ministack"
    sys.exit(main())
