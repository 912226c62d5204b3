// The CRM as a fallback chain: reads go down the links until one answers; the call log,
// written under an idempotency key, goes to the first healthy link only (a try that failed
// may have landed there, so no other CRM may be asked). A late recording goes to that link
// too: the log it belongs to is there.
import { FallbackRunner, type FallbackGate, type FallbackLink } from '../fallback';
import type { AttachedRecording, Balance, CallLog, CrmClient, Customer } from './port';

export class FallbackCrmClient implements CrmClient {
  private readonly runner: FallbackRunner<CrmClient>;

  constructor(links: FallbackLink<CrmClient>[], gate?: FallbackGate) {
    this.runner = new FallbackRunner('crm', links, gate);
  }

  async findCustomerByPhone(phone: string): Promise<Customer | undefined> {
    return (await this.runner.run((crm) => crm.findCustomerByPhone(phone))).value;
  }

  async getBalance(customerId: string): Promise<Balance> {
    return (await this.runner.run((crm) => crm.getBalance(customerId))).value;
  }

  async writeCallLog(
    idempotencyKey: string,
    log: CallLog,
  ): Promise<{ id: string; created: boolean }> {
    const write = (crm: CrmClient) => crm.writeCallLog(idempotencyKey, log);
    return (await this.runner.run(write, { firstOnly: true })).value;
  }

  async attachRecording(
    callSid: string,
    recordingKey: string,
  ): Promise<AttachedRecording | undefined> {
    const attach = (crm: CrmClient) => crm.attachRecording(callSid, recordingKey);
    return (await this.runner.run(attach, { firstOnly: true })).value;
  }
}
