import { implementJob } from 'jobstack';
import { tenantReport } from '../contracts.js';

export const tenantReportJob = implementJob(tenantReport, async ({ tenant, ms }, { signal }) => {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
  return { tenant };
});
