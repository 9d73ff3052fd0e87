import { EMULATOR_REGION } from '../deploy.js';

/** Thrown when the emulator answers a CloudWatch or CloudWatch Logs call with an error. */
export class EmulatorApiError extends Error {
  constructor(
    readonly action: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${action} on the emulator failed: HTTP ${status} ${body.slice(0, 300)}`);
    this.name = 'EmulatorApiError';
  }
}

const SERVICES = {
  cloudwatch: { signingName: 'monitoring', target: 'GraniteServiceVersion20100801', contentType: 'application/x-amz-json-1.0' },
  logs: { signingName: 'logs', target: 'Logs_20140328', contentType: 'application/x-amz-json-1.1' },
} as const;

/**
 * One CloudWatch or CloudWatch Logs call (their JSON protocol) on a local emulator.
 *
 * The package ships no CloudWatch SDK clients, and this talks to the emulator only: the request carries the
 * emulator's account credentials and region in an unsigned Authorization header (MiniStack and LocalStack read
 * the region and access key from it and check no signature). Never used against AWS.
 */
export async function callEmulator<T>(
  endpoint: string,
  service: keyof typeof SERVICES,
  action: string,
  input: object,
): Promise<T> {
  const { signingName, target, contentType } = SERVICES[service];
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-amz-target': `${target}.${action}`,
      authorization: `AWS4-HMAC-SHA256 Credential=test/${day}/${EMULATOR_REGION}/${signingName}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new EmulatorApiError(action, response.status, text);
  return (text === '' ? {} : JSON.parse(text)) as T;
}
