import * as z from 'zod';

/**
 * The SQS message body the job system's EventBridge rules send to its intake
 * queue: which rule sent it and the whole event. The rules build it with an
 * input transformer (`<aws.events.event.json>` is the original event with its
 * detail), so the intake function knows the job type of a trigger without
 * matching event patterns itself.
 */
export const IntakeMessageSchema = z.discriminatedUnion('jobstack', [
  z.object({ jobstack: z.literal('enqueue'), event: z.unknown() }),
  z.object({ jobstack: z.literal('trigger'), jobType: z.string().min(1), event: z.unknown() }),
]);
export type IntakeMessage = z.infer<typeof IntakeMessageSchema>;

/** The envelope fields of an EventBridge event the intake reads (the rest is passed on to `trigger.payload`). */
export const IntakeEventSchema = z.looseObject({
  id: z.string().min(1),
  source: z.string(),
  'detail-type': z.string(),
  detail: z.unknown(),
});

/** The input template of a rule's SQS target: the message for `enqueue` events, or for one job type's trigger. */
export function intakeInputTemplate(
  rule: { readonly kind: 'enqueue' } | { readonly kind: 'trigger'; readonly jobType: string },
): string {
  const head =
    rule.kind === 'enqueue' ? '"jobstack":"enqueue"' : `"jobstack":"trigger","jobType":${JSON.stringify(rule.jobType)}`;
  // Predefined variable: the whole original event, detail included; only valid as a JSON value.
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
  return `{${head},"event":<aws.events.event.json>}`;
}
