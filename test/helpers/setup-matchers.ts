// Registers aws-sdk-client-mock's matchers (toHaveReceivedCommandWith, ...) and their types.
import 'aws-sdk-client-mock-vitest/extend';
