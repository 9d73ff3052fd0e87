import * as fc from 'fast-check';
import { LEASE_SLACK_MS } from '../../../functions/worker/process-record.js';
import { checkInvariants } from './invariants.js';
import { type HandlerResult, MODEL_JOB_TIMEOUT_MS, VISIBILITY_TIMEOUT_MS, type World } from './world.js';

/**
 * The steps of the interleaving test. Each picks its target by index (taken
 * modulo what exists, so any sequence is valid and shrinks well), acts on the
 * real system, then checks every invariant. Add an actor by adding a class here
 * and its arbitrary to `commandArbitraries`.
 */
type Model = Record<string, never>;

abstract class Step implements fc.AsyncCommand<Model, World> {
  check(): boolean {
    return true;
  }

  async run(_model: Model, world: World): Promise<void> {
    await this.act(world);
    await checkInvariants(world, this.toString());
  }

  protected abstract act(world: World): Promise<unknown>;
  abstract toString(): string;
}

/** SQS hands a message to the worker: a visible one, or (duplicate) any undeleted one. */
export class Deliver extends Step {
  constructor(
    readonly pick: number,
    readonly duplicate: boolean,
  ) {
    super();
  }
  protected act(world: World) {
    return world.deliver(this.pick, this.duplicate);
  }
  toString() {
    return `deliver(${this.pick}${this.duplicate ? ', duplicate' : ''})`;
  }
}

/**
 * A paused handler goes on: a plain one returns; a once handler moves to its next
 * pause (into its step, out of it) and returns from the last. Its result may hold
 * a number DynamoDB or its document client cannot store.
 */
export class Complete extends Step {
  constructor(
    readonly pick: number,
    readonly result: HandlerResult = 'plain',
  ) {
    super();
  }
  protected act(world: World) {
    return world.finish(this.pick, { kind: 'complete', result: this.result });
  }
  toString() {
    return `complete(${this.pick}${this.result === 'plain' ? '' : `, ${this.result}`})`;
  }
}

/** A paused handler throws where it is, retryable or not (inside a ctx.once step: the step throws). */
export class Throw extends Step {
  constructor(
    readonly pick: number,
    readonly retryable: boolean,
  ) {
    super();
  }
  protected act(world: World) {
    return world.finish(this.pick, { kind: 'throw', retryable: this.retryable });
  }
  toString() {
    return `throw(${this.pick}, ${this.retryable ? 'retryable' : 'non-retryable'})`;
  }
}

/** The Lambda running a paused handler dies where it is (before, inside or after a ctx.once step): nothing more is written. */
export class Crash extends Step {
  constructor(readonly pick: number) {
    super();
  }
  protected async act(world: World) {
    return world.crash(this.pick);
  }
  toString() {
    return `crash(${this.pick})`;
  }
}

/** Time passes: a backoff ends, a lease expires, a crashed run's message comes back. */
export class AdvanceClock extends Step {
  constructor(readonly ms: number) {
    super();
  }
  protected async act(world: World) {
    world.clock.advance(this.ms);
  }
  toString() {
    return `advance(${this.ms} ms)`;
  }
}

export class Cancel extends Step {
  constructor(readonly pick: number) {
    super();
  }
  protected act(world: World) {
    return world.cancel(this.pick);
  }
  toString() {
    return `cancel(job ${this.pick})`;
  }
}

export class Retry extends Step {
  constructor(readonly pick: number) {
    super();
  }
  protected act(world: World) {
    return world.retry(this.pick);
  }
  toString() {
    return `retry(job ${this.pick})`;
  }
}

/** One run of the real sweeper, with the model's queues as its evidence. */
export class Sweep extends Step {
  protected act(world: World) {
    return world.sweep();
  }
  toString() {
    return 'sweep';
  }
}

/** The undeliverable queue's consumer takes one of its visible messages (moved there by SQS's redrive). */
export class ConsumeUndeliverable extends Step {
  constructor(readonly pick: number) {
    super();
  }
  protected act(world: World) {
    return world.consumeUndeliverable(this.pick);
  }
  toString() {
    return `consume-undeliverable(${this.pick})`;
  }
}

/** `jobstack redrive` of one dead-letter copy: requeue its dead job and send the copy back. */
export class Redrive extends Step {
  constructor(readonly pick: number) {
    super();
  }
  protected act(world: World) {
    return world.redrive(this.pick);
  }
  toString() {
    return `redrive(copy ${this.pick})`;
  }
}

/** A person resolves the interrupted ctx.once step of a dead job (it happened, or `rerun`), then retries it. */
export class ResolveStep extends Step {
  constructor(
    readonly pick: number,
    readonly rerun: boolean,
  ) {
    super();
  }
  protected act(world: World) {
    return world.resolveStep(this.pick, this.rerun);
  }
  toString() {
    return `resolve-step(once job ${this.pick}, ${this.rerun ? 'rerun' : 'with a result'})`;
  }
}

/** SQS starts (or stops) refusing sends to the dead-letter queue. */
export class DeadLetterOutage extends Step {
  constructor(readonly down: boolean) {
    super();
  }
  protected async act(world: World) {
    world.setDeadLetterOutage(this.down);
  }
  toString() {
    return `dead-letter queue ${this.down ? 'down' : 'up'}`;
  }
}

/** An enqueue wrote its record, but its send failed and so did the rollback: only the sweeper can move the job. */
export class EnqueueUnsent extends Step {
  protected act(world: World) {
    return world.enqueue('plain', { sendLost: true });
  }
  toString() {
    return 'enqueue (send lost)';
  }
}

const pick = fc.nat({ max: 7 });
/** Just under and past a lease, a backoff, a visibility timeout. */
const durations = fc.constantFrom(1_000, 5_000, MODEL_JOB_TIMEOUT_MS + LEASE_SLACK_MS + 1, VISIBILITY_TIMEOUT_MS + 1);

const deliver = fc.tuple(pick, fc.boolean()).map(([index, duplicate]) => new Deliver(index, duplicate));
const complete = pick.map((index) => new Complete(index));
const completeWithAwkwardNumber = fc
  .tuple(pick, fc.constantFrom<HandlerResult>('unsafe-integer', 'out-of-range-number'))
  .map(([index, result]) => new Complete(index, result));
const advance = durations.map((ms) => new AdvanceClock(ms));

const throwing = fc.tuple(pick, fc.boolean()).map(([index, retryable]) => new Throw(index, retryable));
const crash = pick.map((index) => new Crash(index));
const consumeUndeliverable = pick.map((index) => new ConsumeUndeliverable(index));

/**
 * What a run draws from, uniformly: deliveries, handlers going on, crashes and
 * time are listed more than once, so that runs reach takeovers, late returns,
 * crashes inside a ctx.once step and messages past their receive limit often,
 * instead of spending their steps on commands with nothing to act on.
 */
export const commandArbitraries: fc.Arbitrary<fc.AsyncCommand<Model, World>>[] = [
  deliver,
  deliver,
  deliver,
  deliver,
  complete,
  complete,
  complete,
  completeWithAwkwardNumber,
  throwing,
  crash,
  crash,
  advance,
  advance,
  advance,
  pick.map((index) => new Cancel(index)),
  pick.map((index) => new Retry(index)),
  fc.constant(new Sweep()),
  consumeUndeliverable,
  consumeUndeliverable,
  pick.map((index) => new Redrive(index)),
  fc.tuple(pick, fc.boolean()).map(([index, rerun]) => new ResolveStep(index, rerun)),
  fc.boolean().map((down) => new DeadLetterOutage(down)),
  fc.constant(new EnqueueUnsent()),
];

export type { Model };
